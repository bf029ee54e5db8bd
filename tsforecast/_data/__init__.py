"""Training data in memory: lazy zero-copy windows, batches and token input."""
