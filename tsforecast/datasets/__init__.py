"""Data shipped with tsforecast (no network access): market prices, hourly weather and a labelled
text."""

from ._loaders import load_eurusd, load_fx, load_hourly_weather, load_kjv, load_sp500

__all__ = ["load_eurusd", "load_fx", "load_hourly_weather", "load_kjv", "load_sp500"]
