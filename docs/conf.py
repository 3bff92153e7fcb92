"""Sphinx configuration: the guides and the API reference generated from the docstrings (``make docs``)."""

from __future__ import annotations

from airflow_provider_sparkk8s import __version__

project = "airflow-provider-sparkk8s"
copyright = "the airflow-provider-sparkk8s authors"
version = release = __version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1240px", "sidebar_width": "260px"}  # room for code and tables

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Types from outside this package (the standard library, Airflow, the Kubernetes clients ...) cannot be linked:
# the build runs offline, without intersphinx inventories. Every reference into this package must resolve.
nitpick_ignore_regex = [(r"py:.*", r"(?!airflow_provider_sparkk8s\.).*")]

# One parameter per line in long signatures (the operators take dozens).
python_maximum_signature_line_length = 100
