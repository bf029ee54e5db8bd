"""Bottom layer: helpers with no knowledge of the package (sklearn's private API, file I/O,
tensor/array conversion). Imports nothing from the rest of tsforecast."""
