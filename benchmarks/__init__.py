"""Reproducible speed and memory benchmarks of tsforecast: ``python -m benchmarks``."""
