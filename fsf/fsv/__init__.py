"""FSV back end: IR + Python values <-> canonical FSV bytes (one codec, three paths)."""
