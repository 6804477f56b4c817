"""Sphinx configuration: Markdown pages (MyST) plus an API reference from numpydoc docstrings.

Built warning-free by tests/test_docs.py (``sphinx-build -W``).
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
exclude_patterns = ["_build"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_heading_anchors = 3
html_theme = "alabaster"
suppress_warnings = ["myst.header"]
nitpicky = False
html_static_path = ["_static"]
