"""The built site works offline: no page, stylesheet, script or image loads anything from another host.

Only references the browser fetches on its own count (scripts, stylesheets, preloads, icons, images,
frames, fonts, CSS ``url()`` and ``@import``). Ordinary ``<a href>`` links to cited sources are fine:
the reader chooses to follow them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

# http:, https: or protocol-relative //host (any other scheme, data: included, stays on the machine)
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
# CSS: url(...) and @import "..." / @import url(...)
CSS_URL = re.compile(r"""url\(\s*(['"]?)(?P<url>[^'")]*)\1\s*\)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+(['"])(?P<url>[^'"]*)\1""", re.IGNORECASE)
# JavaScript: module imports, workers, fetches and src assignments with a literal URL
_QUOTED_EXTERNAL = r"""\s*['"`](?P<url>(?:https?:)?//[^'"`\s]+)"""
JS_LOADS = [
    re.compile(r"\bimport\s*\(" + _QUOTED_EXTERNAL),
    re.compile(r"\bfrom" + _QUOTED_EXTERNAL),
    re.compile(r"\bimport" + _QUOTED_EXTERNAL),
    re.compile(r"\bimportScripts\s*\(" + _QUOTED_EXTERNAL),
    re.compile(r"\bfetch\s*\(" + _QUOTED_EXTERNAL),
    re.compile(r"\bnew\s+(?:Shared)?Worker\s*\(" + _QUOTED_EXTERNAL),
    re.compile(r"\bsrc\s*=\\?" + _QUOTED_EXTERNAL),
    re.compile(r"""\.open\(\s*['"][A-Za-z]+['"]\s*,""" + _QUOTED_EXTERNAL),
    re.compile(r"""setAttribute\(\s*['"](?:src|href)['"]\s*,""" + _QUOTED_EXTERNAL),
]
# attributes the browser fetches by itself, per element (<a href> is deliberately absent)
FETCHED_ATTRS: dict[str, tuple[str, ...]] = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href", "src"),
    "use": ("href", "xlink:href"),
    "feimage": ("href", "xlink:href"),
    "base": ("href",),
}
# <link rel=...> values that never make the browser fetch anything; every other rel counts as a load
INERT_LINK_RELS = {
    "alternate", "author", "bookmark", "canonical", "external", "help", "index", "license",
    "me", "next", "nofollow", "noopener", "noreferrer", "prev", "search", "top", "up",
}  # fmt: skip


def _srcset_urls(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def css_violations(css: str) -> list[str]:
    return [
        m["url"].strip()
        for pattern in (CSS_URL, CSS_IMPORT)
        for m in pattern.finditer(css)
        if EXTERNAL.match(m["url"])
    ]


def js_violations(js: str) -> list[str]:
    return [m["url"] for pattern in JS_LOADS for m in pattern.finditer(js)] + css_violations(js)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in: str | None = None  # "script" or "style" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        urls: list[str] = []
        for attr in FETCHED_ATTRS.get(tag, ()):
            if attr in values:
                urls += _srcset_urls(values[attr]) if attr == "srcset" else [values[attr]]
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            if not rels or not rels <= INERT_LINK_RELS:
                urls += [values.get("href", ""), *_srcset_urls(values.get("imagesrcset", ""))]
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            urls += re.split(r"url\s*=", values.get("content", ""), maxsplit=1, flags=re.IGNORECASE)[1:]
        self.found += [f"<{tag}> {url.strip()}" for url in urls if EXTERNAL.match(url)]
        self.found += [f"<{tag} style> {url}" for url in css_violations(values.get("style", ""))]
        if tag in ("script", "style"):
            self._in = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in = None

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.found += [f"<style> {url}" for url in css_violations(data)]
        elif self._in == "script":
            self.found += [f"<script> {url}" for url in js_violations(data)]


def html_violations(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.found


def site_violations(site: Path) -> list[str]:
    """Every external load in the site, as ``<file>: <what> <url>``."""
    found: list[str] = []
    for path in sorted(_site_files(site)):
        text = path.read_text(encoding="utf-8", errors="replace")
        suffix = path.suffix
        hits = (
            html_violations(text)
            if suffix in (".html", ".svg")
            else css_violations(text)
            if suffix == ".css"
            else js_violations(text)
        )
        found += [f"{path.relative_to(site)}: {hit}" for hit in hits]
    return found


def _site_files(site: Path) -> Iterator[Path]:
    for suffix in ("html", "svg", "css", "js"):
        for path in site.rglob(f"*.{suffix}"):
            if "_sources" not in path.relative_to(site).parts:  # page sources as text, never loaded
                yield path


def test_built_site_loads_nothing_from_other_hosts(site_dir: Path) -> None:
    assert (site_dir / "index.html").is_file()
    checked = list(_site_files(site_dir))
    assert len([p for p in checked if p.suffix == ".html"]) > 10, "the walk found too few pages"
    assert any(p.suffix == ".css" for p in checked) and any(p.suffix == ".js" for p in checked)
    violations = site_violations(site_dir)
    assert not violations, "external loads in the built site:\n" + "\n".join(violations)


def test_the_sandbox_chat_page_loads_nothing_from_other_hosts() -> None:
    """The assistant chat page (``/assistant-chat``, served beside the site by ``make run``) is static
    files in the sandbox package: the same scan covers them."""
    from futurebank.sandbox.entrypoints.routers.chat_page import PAGE_DIR

    checked = sorted(p.name for p in _site_files(PAGE_DIR))
    assert checked == ["chat.css", "chat.js", "index.html"], checked
    violations = site_violations(PAGE_DIR)
    assert not violations, "external loads in the chat page:\n" + "\n".join(violations)
    # no absolute URL at all in what the page loads or calls: every path is on the server it came from
    script = (PAGE_DIR / "chat.js").read_text(encoding="utf-8")
    assert re.findall(r"""['"`](?:https?:)?//""", script) == []


# --- the checker itself ---------------------------------------------------------------------------

BAD_PAGE = """<!doctype html>
<html><head>
<script src="https://cdn.example.com/lib.js"></script>
<link rel="stylesheet" href="//fonts.example.com/css?family=X">
<link rel="preload" as="font" href="http://fonts.example.com/x.woff2">
<link rel="icon" href="https://example.com/favicon.ico">
<link rel="canonical" href="https://example.com/page.html">
<meta http-equiv="refresh" content="0; URL=https://example.com/moved">
<style>@import "https://example.com/a.css"; body { background: url(//img.example.com/b.png) }</style>
<script>import("https://esm.example.com/m.js"); fetch('https://api.example.com/x')</script>
</head><body style="background-image: url('https://img.example.com/c.png')">
<img src="https://img.example.com/d.png" srcset="local.png 1x, https://img.example.com/d2.png 2x">
<iframe src="https://video.example.com/embed/1"></iframe>
<svg><image href="https://img.example.com/e.svg"/></svg>
<a href="https://www.cbr.ru/">a cited source</a>
<img src="_static/ok.png"><script src="_static/ok.js"></script>
<img src="data:image/png;base64,AAAA">
</body></html>
"""
BAD_CSS = """@font-face { font-family: X; src: url("https://fonts.example.com/x.woff2") format("woff2"); }
@import url(https://example.com/more.css);
.ok { background: url("data:image/svg+xml;charset=utf-8,<svg xmlns='http://www.w3.org/2000/svg'/>") }
.ok2 { background: url(../images/local.png) }
"""


def test_checker_flags_every_kind_of_external_load() -> None:
    found = html_violations(BAD_PAGE)
    expected = [
        "<script> https://cdn.example.com/lib.js",
        "<link> //fonts.example.com/css?family=X",
        "<link> http://fonts.example.com/x.woff2",
        "<link> https://example.com/favicon.ico",
        "<meta> https://example.com/moved",
        "<style> //img.example.com/b.png",
        "<style> https://example.com/a.css",
        "<script> https://esm.example.com/m.js",
        "<script> https://api.example.com/x",
        "<body style> https://img.example.com/c.png",
        "<img> https://img.example.com/d.png",
        "<img> https://img.example.com/d2.png",
        "<iframe> https://video.example.com/embed/1",
        "<image> https://img.example.com/e.svg",
    ]
    assert sorted(found) == sorted(expected)


def test_checker_allows_links_local_files_and_data_urls() -> None:
    page = '<a href="https://www.cbr.ru/">x</a><img src="a.png"><link rel="stylesheet" href="_static/s.css">'
    assert html_violations(page) == []


def test_checker_flags_fonts_and_imports_in_css() -> None:
    assert sorted(css_violations(BAD_CSS)) == [
        "https://example.com/more.css",
        "https://fonts.example.com/x.woff2",
    ]


def test_checker_ignores_urls_in_js_comments_but_not_loads() -> None:
    js = "// see https://developer.mozilla.org/x\nvar a = 1; // https://example.com\n"
    assert js_violations(js) == []
    assert js_violations('el.src = "https://cdn.example.com/x.js";') == ["https://cdn.example.com/x.js"]


def test_a_site_with_one_bad_page_fails(tmp_path: Path) -> None:
    (tmp_path / "_static").mkdir()
    (tmp_path / "index.html").write_text('<p><a href="https://ok.example.com/">ok</a></p>', encoding="utf-8")
    (tmp_path / "bad.html").write_text('<script src="//cdn.example.com/x.js"></script>', encoding="utf-8")
    (tmp_path / "_static" / "s.css").write_text("@import 'https://example.com/a.css';", encoding="utf-8")
    assert site_violations(tmp_path) == [
        "_static/s.css: https://example.com/a.css",
        "bad.html: <script> //cdn.example.com/x.js",
    ]


@pytest.mark.parametrize(
    "url", ["http://x.example", "HTTPS://x.example", "//x.example", " https://x.example"]
)
def test_external_pattern(url: str) -> None:
    assert EXTERNAL.match(url)
