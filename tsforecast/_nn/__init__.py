"""The networks: torch modules only (cells, stacked layers, heads, grouped networks, losses).

Imports torch and nothing else of the package (enforced by import-linter, see ``make lint``)."""
