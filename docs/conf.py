"""Sphinx configuration of the pandas-toloka documentation.

Build: ``pip install -e '.[docs]' && sphinx-build -W -b html docs docs/_build/html``.

Why Sphinx: the docstrings are numpydoc, like pandas' own, and Sphinx with
numpydoc renders them as pandas' reference does; MyST-Parser keeps the guide
pages Markdown, so that they read well on GitHub and their ``python`` blocks
stay runnable by the tests (tests/test_docs.py). MkDocs + mkdocstrings would
need its numpy-style parser and a second dialect of cross-references.

Three parts are generated here at every build, so they cannot go stale: the
API reference (``api/``, from the ``__all__`` of each public module), the
command-line reference (from the argparse parser) and the type-mapping table
(from :func:`pandas_toloka.schema.type_mapping_table`).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _generate  # noqa: E402

import pandas_toloka  # noqa: E402

project = "pandas-toloka"
author = "pandas-toloka developers"
copyright = "pandas-toloka developers"  # noqa: A001
release = pandas_toloka.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# Pygments' SQL lexer stumbles on DuckDB's struct literals ({'pool_id': VARCHAR});
# Sphinx then highlights the block in relaxed mode, which is all we want.
suppress_warnings = ["misc.highlighting_failure"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# No intersphinx: the build must not need the network (CI, offline clones).

html_theme = "pydata_sphinx_theme"
html_title = "pandas-toloka"
html_theme_options = {
    "github_url": _generate.REPOSITORY,
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []

_generate.write_all(HERE)
