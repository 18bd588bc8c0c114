"""The store: content-addressed values and type closures on disk, verified on every read."""
