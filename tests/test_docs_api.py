"""The API reference (docs/api/*.rst) lists every public name of every public module."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api"
MODULES = [
    "estimators",
    "preprocessing",
    "compose",
    "model_selection",
    "metrics",
    "baselines",
    "volatility",
    "forecast",
    "persistence",
    "export",
    "mlflow",
    "datasets",
    "plotting",
    "exceptions",
]


def documented() -> dict[str, set[str]]:
    """The names each page's autosummary lists, by module."""
    pages = {}
    for name in MODULES:
        text = (API / f"{name}.rst").read_text(encoding="utf-8")
        table = text.split(":nosignatures:", 1)[1]
        pages[name] = set(re.findall(r"^   (\w+)$", table, re.MULTILINE))
    return pages


def public_names(module) -> set[str]:
    """``__all__``, or the classes and functions the module (or its private part) defines."""
    if hasattr(module, "__all__"):
        return set(module.__all__)
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and (obj.__module__ == module.__name__ or obj.__module__.startswith(module.__name__ + "."))
    }


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_has_a_page(name):
    pages = documented()
    module = importlib.import_module(f"tsforecast.{name}")
    objects = {
        id(getattr(importlib.import_module(f"tsforecast.{other}"), entry))
        for other, entries in pages.items()
        for entry in entries
    }
    missing = {entry for entry in public_names(module) if id(getattr(module, entry)) not in objects}
    assert not missing, f"tsforecast.{name}: add {sorted(missing)} to docs/api/{name}.rst"
    assert pages[name] <= public_names(module), f"docs/api/{name}.rst lists private names"


def test_the_api_index_links_every_module_page():
    index = (API / "index.rst").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^   (\w+)$", index, re.MULTILINE)) == sorted(MODULES)
    assert sorted(path.stem for path in API.glob("*.rst")) == sorted([*MODULES, "index"])
