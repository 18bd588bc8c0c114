"""`fsf breaking`: which schema changes break which readers, and which stored values (``docs/breaking.md``)."""
