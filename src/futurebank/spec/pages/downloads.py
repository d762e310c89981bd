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
from futurebank.spec.jira_export import PRIORITY_MAP, RELEASE_VERSIONS
from futurebank.spec.pages import md_table


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


def jira_mapping(app: Sphinx) -> str:
    """How the spec's fields land in Jira's fields, from the exporter's own tables."""
    rows = [(f"priority *{moscow}*", f"Priority **{jira}**") for moscow, jira in PRIORITY_MAP.items()]
    rows += [
        (f"release *{release}*", f"Fix Version **{version}**")
        for release, version in RELEASE_VERSIONS.items()
    ]
    rows += [
        ("epic", "Issue Type **Epic**, Epic Name = its title; first in the file"),
        ("story", "Issue Type **Story**; Parent = its epic's Issue ID, Epic Link = its epic's name"),
        (
            "scoped_by (each scope decision)",
            "one **Component** (the decision's heading) and one label (its id)",
        ),
        ("the item's id", "the first **Labels** value, and *Spec item* in the description"),
        ("Gherkin scenarios, or a later story's written criteria", "**Acceptance Criteria**"),
    ]
    return md_table(["In the spec", "In Jira"], rows)


GENERATORS = {"downloads-table": downloads_table, "jira-mapping": jira_mapping}
