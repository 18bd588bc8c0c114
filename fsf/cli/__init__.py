"""Command lines: the `fsf` and `fsv` tools (thin: arguments in, library call, exit code)."""
