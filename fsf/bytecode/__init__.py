"""Bytecode back end: IR -> validator program -> reference VM, specialised Python, listing, .fsb."""
