"""Generator ``downloads-table``: the download page's table of every file the build publishes.

The files are listed by ``futurebank.spec.exports.DOWNLOADS`` and written, when the HTML build finishes,
into the site folder named by the Sphinx setting ``futurebank_downloads`` (see
``futurebank.spec.sphinx_ext.publish_site_downloads``). Each link is relative to the page that shows the
table, so the site works from any folder and offline.
"""

from __future__ import annotations

import html
import posixpath

from sphinx.application import Sphinx

from futurebank.spec.exports import DOWNLOADS


def render_downloads(folder: str, page: str) -> str:
    """A raw HTML table (MyST ``raw`` block) linking each file of ``folder`` from the page ``page``."""
    base = posixpath.relpath(folder, posixpath.dirname(page) or ".")
    rows = []
    for name, kind, what in DOWNLOADS:
        href = html.escape(name if base == "." else f"{base}/{name}")
        rows.append(
            f'<tr><td><a class="reference download" href="{href}" download>{html.escape(name)}</a></td>'
            f"<td>{html.escape(kind)}</td><td>{html.escape(what)}</td></tr>"
        )
    return (
        "```{raw} html\n"
        '<table class="docutils align-default" id="download-files">\n'
        "<thead><tr><th>File</th><th>Format</th><th>What it is</th></tr></thead>\n"
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n```\n"
    )


def downloads_table(app: Sphinx) -> str:
    folder = str(app.config.futurebank_downloads or "")
    if not folder:
        return "This build publishes no downloads (the setting `futurebank_downloads` is empty).\n"
    return render_downloads(folder, app.env.docname)


GENERATORS = {"downloads-table": downloads_table}
