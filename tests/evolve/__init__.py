"""Evolution: values written with one version of a type read as another (``docs/evolution.md``)."""
