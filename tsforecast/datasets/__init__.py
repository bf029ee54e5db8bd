"""Real market data shipped with tsforecast (no network access)."""

from ._loaders import load_eurusd, load_fx, load_sp500

__all__ = ["load_eurusd", "load_fx", "load_sp500"]
