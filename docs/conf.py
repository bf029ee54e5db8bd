"""Sphinx configuration of the tsforecast documentation (``make docs``).

Offline by design: no intersphinx (the build machine has no internet), no JavaScript or
fonts from a CDN. References to other packages' objects (scikit-learn, pandas, torch, ...)
cannot be resolved without their inventories, so ``nitpick_ignore_regex`` names those
packages; every reference to this package's own objects must resolve (``-n -W``).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the checkout's package, also without an install
os.environ.setdefault("OMP_NUM_THREADS", "1")

import tsforecast  # noqa: E402

project = "tsforecast"
author = "tsforecast developers"
copyright = "tsforecast developers"
release = tsforecast.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3  # [text](#a-section-title) links, as on GitHub
# _generated/: tables written at build time from saved results, included by the guide pages.
exclude_patterns = ["_build", "_generated", "**/*.md5"]
nitpicky = True
# Objects of other packages: no inventories offline, so their references stay unresolved.
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(sklearn|numpy|np|pandas|pd|torch|lightning|optuna|mlflow|matplotlib|joblib|dask|"
        r"onnx|onnxruntime|arch|scipy|darts|sktime|skforecast)(\..*)?",
    ),
]

# API reference: one page per public object, generated from the docstrings.
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc's Parameters section carries the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_member(app, what, name, obj, skip, options):
    """Document the members tsforecast defines; leave out those inherited from scikit-learn
    (``get_params``, ``set_output``, the generated ``set_fit_request``, ...): their pages
    are scikit-learn's."""
    defined_in = getattr(getattr(obj, "fget", obj), "__module__", None) or "tsforecast"
    if what == "class" and not defined_in.startswith("tsforecast"):
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _public_alias(app, env, node, contnode):
    """Resolve a reference to a re-exported name (``tsforecast.LSTMRegressor``, or a bare
    ``LSTMRegressor`` in a docstring's type) to the page of the object it names."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    name = target.rpartition(".")[2]
    if target not in (name, f"tsforecast.{name}") or name not in tsforecast.__all__:
        return None
    obj = getattr(tsforecast, name)
    domain = env.get_domain("py")
    for candidate, entry in domain.objects.items():
        if candidate.rpartition(".")[2] != name or entry.aliased:
            continue
        module, _, attribute = candidate.rpartition(".")
        if getattr(sys.modules.get(module), attribute, None) is obj:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], candidate, node, contnode
            )
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("missing-reference", _public_alias)


# ``python -m sphinx -b doctest docs docs/_build/doctest`` runs the ``>>>`` examples as
# rendered (pytest runs them from the modules; tests/test_docs_code.py runs the guide's code).
doctest_global_setup = "import torch\ntorch.set_num_threads(1)\n"

html_theme = "pydata_sphinx_theme"
html_title = f"tsforecast {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_show_sourcelink = False

# ---------------------------------------------------------------------------------------
# sphinx-gallery (the examples, run with TSFORECAST_DOCS_FAST=1) and the tables of measured
# figures (docs/_generated/, from benchmarks/results/): docs/_gallery.py (branch i23b).
sys.path.insert(0, str(DOCS))
from _gallery import sphinx_gallery_conf, write_tables  # noqa: E402, F401 (Sphinx reads it)

write_tables(DOCS / "_generated")
# Found by the browser test (tests/test_docs_browser.py): without a default mode the theme
# logs "Got invalid theme mode" as a console error on a first visit, and without a favicon
# the browser's request for /favicon.ico fails.
html_context = {"default_mode": "auto"}
html_favicon = "_static/favicon.svg"
# --- end of the sphinx-gallery block -----------------------------------------------------
