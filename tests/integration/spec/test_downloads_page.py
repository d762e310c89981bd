"""The site's download page: every export and contract the build publishes is linked, and each link
resolves to a file in the built site that holds what the build produced."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup, Tag

from futurebank.spec.exports import DOWNLOADS, publish_downloads
from futurebank.spec.needs_json import ExportError, load_needs
from futurebank.spec.pages.downloads import render_downloads
from futurebank.spec.reqif_export import load_reqif

REPO = Path(__file__).resolve().parents[3]
PAGE = Path("downloads") / "index.html"


def linked_files(site_dir: Path) -> dict[str, Path]:
    """File name -> the file each link of the page's download table points to."""
    page = site_dir / PAGE
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    table = soup.find("table", id="download-files")
    assert isinstance(table, Tag), "the download page has no table of files"
    links: dict[str, Path] = {}
    for anchor in table.find_all("a"):
        href = str(anchor.get("href", ""))
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, f"{href}: a download must be a file of the site"
        links[anchor.get_text(strip=True)] = (page.parent / unquote(parts.path)).resolve()
    return links


def test_every_link_resolves_to_a_file_in_the_built_site(site_dir: Path) -> None:
    links = linked_files(site_dir)
    assert list(links) == [name for name, _, _ in DOWNLOADS]
    site = site_dir.resolve()
    for name, path in links.items():
        assert path.is_relative_to(site), f"{name} points outside the site"
        assert path.is_file() and path.stat().st_size > 0, f"{name}: {path} is missing or empty"
        assert path.name == name


def test_the_files_are_this_builds_exports(site_dir: Path) -> None:
    links = linked_files(site_dir)
    assert links["needs.json"].read_bytes() == (site_dir / "needs.json").read_bytes()
    for contract in ("openapi.yaml", "asyncapi.yaml"):
        assert links[contract].read_bytes() == (REPO / "docs" / "api" / contract).read_bytes()
    assert sorted(load_reqif(links["spec.reqif"])) == sorted(load_needs(site_dir / "needs.json"))
    assert links["stories.csv"].read_text(encoding="utf-8").startswith("Issue ID,")
    assert links["traceability.xlsx"].read_bytes()[:2] == b"PK"  # an OOXML workbook is a zip


def test_the_start_page_links_to_the_download_page(site_dir: Path) -> None:
    soup = BeautifulSoup((site_dir / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.find("a", href="downloads/index.html") is not None


def test_links_are_relative_to_the_page() -> None:
    assert 'href="needs.json"' in render_downloads("downloads", "downloads/index")
    assert 'href="../files/spec.reqif"' in render_downloads("files", "downloads/index")
    assert 'href="files/spec.reqif"' in render_downloads("files", "index")


def test_publishing_refuses_a_file_set_the_page_does_not_list(
    site_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from futurebank.spec import exports

    monkeypatch.setattr(exports, "DOWNLOADS", [d for d in DOWNLOADS if d[0] != "spec.reqif"])
    with pytest.raises(ExportError, match=r"spec\.reqif"):
        publish_downloads(site_dir / "needs.json", tmp_path, REPO / "docs")


def test_make_run_serves_every_download(site_dir: Path, served: int) -> None:
    """What a reader clicking the links under ``make run`` gets: each file, byte for byte."""
    links = linked_files(site_dir)
    for name, path in links.items():
        url = f"http://127.0.0.1:{served}/downloads/{name}"
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        assert response.content == path.read_bytes(), name
