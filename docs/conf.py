"""Sphinx configuration: Markdown pages (MyST) plus an API reference from numpydoc docstrings.

Built strictly (``sphinx -n -W``: every cross-reference resolved, no warning) by
tests/test_docs.py::test_sphinx_strict_build.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "tsconv"
author = "the tsconv developers"
copyright = "2026, the tsconv developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
master_doc = "index"
exclude_patterns = ["_build", "generated/*.md"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_theme = "alabaster"

# MyST: $...$ and $$...$$ math, amsmath environments, anchors for ## headings.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# API reference: one page per public name; a class page documents every member
# (templates/autosummary/class.rst: autoclass :members:), and numpydoc's member tables
# link to them on the same page.
autosummary_generate = True
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# Readable signatures: parameter names and defaults only. The types are in each
# docstring's numpydoc Parameters / Returns sections (array_like, Kernel, ...), which a
# reader would otherwise see a second time as numpy's expanded ArrayLike union.
autodoc_typehints = "none"
autodoc_member_order = "bysource"

# Strict cross-references. No network at build time (no intersphinx), so references into
# the Python, numpy, scipy, pandas, dask and matplotlib documentation cannot resolve: they
# are the only ones ignored. Every reference to a tsconv name must resolve.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|pandas|pd|dask|matplotlib|soundfile|os|pathlib|collections|typing|concurrent)(\..*)?"),
    (r"py:.*", r"(Path|PathLike|ArrayLike|NDArray|DTypeLike|Callable|Iterable|Iterator|Sequence|Mapping|Any|Literal)"),
    (r"py:.*", r"(int|float|complex|bool|str|bytes|object|None|list|tuple|dict|slice|type)"),
]
# Peak is a NamedTuple: tuple's count/index are not part of its API.
numpydoc_show_inherited_class_members = {"tsconv.Peak": False}
