"""Sphinx configuration for the spec site. The needs model lives in futurebank.spec.needs_model."""

from futurebank.spec.needs_model import sphinx_config

project = "Banking of the future: requirements specification"
author = "Requirements workshop"
copyright = "2026, the futurebank project"  # noqa: A001 - Sphinx config name
language = "en"

extensions = [
    "myst_parser",
    "sphinx_needs",
    "sphinx.ext.graphviz",
    "futurebank.spec.sphinx_ext",
    "sphinxcontrib.openapi",  # static HTTP reference of docs/api/openapi.yaml
    "futurebank.spec.pages.search_en_ru",  # search stems English and Russian words (chat quotes)
    "futurebank.spec.pages.page_polish",  # long trace lists collapsed behind their count
]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline", "attrs_block"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "**/README.md"]
nitpicky = True

html_theme = "furo"
html_title = "Banking of the future — spec"
html_static_path = ["_static"]
html_css_files = ["spec.css"]
html_js_files = ["spec.js"]  # zoom links under the diagrams
html_search_language = "en-ru"  # futurebank.spec.pages.search_en_ru: "бюджета" finds "бюджет"
graphviz_output_format = "svg"

globals().update(sphinx_config())
futurebank_downloads = "downloads"  # every export and the contracts, next to the page docs/downloads/index.md
needs_role_need_max_title_length = -1  # never cut a linked title mid-word
