"""Search in the browser, before and after an embargo's moment: the site's own search (Pagefind,
merged shards) finds nothing of the held speech before, and finds it after."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .browsing import PHONE
from .conftest import _serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import copy_project  # noqa: E402
from test_embargo import AFTER, BEFORE, embargoed  # noqa: E402

pytest.importorskip("pagefind")


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    """The embargoed fixture project built as of a second before its moment, and as of it."""
    from speechgen.build import build
    from speechgen.config import load_config

    project = embargoed(copy_project(tmp_path_factory.mktemp("embargo") / "project"))
    config = load_config(project)
    found = {}
    for name, moment in (("before", BEFORE), ("after", AFTER)):
        found[name] = project.parent / f"site-{name}"
        build(config, out=found[name], at=moment, pdf=False)
    return found


@pytest.mark.parametrize("when, count", [("before", 0), ("after", 1)])
def test_the_sites_search_finds_the_speech_only_after_its_moment(browser, sites, when: str, count: int) -> None:
    for origin in _serve(sites[when], "/arsip/"):
        context = browser.new_context(viewport=PHONE)
        try:
            page = context.new_page()
            page.goto(origin + "cari/index.html", wait_until="load")
            page.fill("#q", "rahasiakalimaya")          # a word of the held speech's body only
            page.press("#q", "Enter")
            page.wait_for_function("!document.getElementById('search-status').textContent.includes('Mencari')"
                                   " && document.getElementById('search-status').textContent.trim() !== ''")
            links = page.locator("#search-results a").evaluate_all(
                "as => as.map(a => a.getAttribute('href').split('?')[0])")
            if count:
                assert links == ["../2025/kenegaraan/index.html"]
            else:
                assert links == [] and "Tidak ada pidato" in page.locator("#search-status").inner_text()
        finally:
            context.close()
