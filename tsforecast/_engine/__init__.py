"""The training engine: the only importer of Lightning.

It trains networks of :mod:`tsforecast._nn` on data of :mod:`tsforecast._data` and returns
plain values; progress, checkpoints and signals live here."""
