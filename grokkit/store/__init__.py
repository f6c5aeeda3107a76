"""What a run is on disk: `Run` and its directory format (JSON + safetensors), what a stored run must hold
to load, the cache's root, run bundles (export, checked import), the book's published runs, provenance
and the checkout root. Nothing here trains: `grokkit.training.cache.load_or_train` does."""
