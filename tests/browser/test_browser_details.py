"""Small things a reader's thumb and eye meet: every listing link a 44x44 px target, and a wide
table's edge shadow beside its box, never over a cell's values."""

from __future__ import annotations

import pytest

from .browsing import PHONE, page_types

TARGETS = (".site-header nav a, .lang-switch a, .archive-nav a, .archive-index a, .pager a, .change-where a, "
           ".speech-langs a, .speech-link, .toc summary, .side-by-side-link a")


@pytest.fixture(scope="module")
def types(built_site, manifest) -> dict[str, str]:
    return page_types(built_site, manifest)


@pytest.mark.parametrize("kind", ["home", "years", "year", "speaker", "speech-id", "speech-en", "search", "changes"])
def test_every_listing_link_is_a_44_px_target_on_a_phone(visit, types, kind: str) -> None:
    page, _ = visit.open(types[kind], PHONE)
    boxes = page.evaluate(f"""[...document.querySelectorAll({TARGETS!r})].filter(a => a.offsetParent)
        .map(a => [a.textContent.trim().slice(0, 20), a.getBoundingClientRect().width, a.getBoundingClientRect().height])""")
    assert boxes, kind
    small = [b for b in boxes if b[1] < 44 or b[2] < 44]
    assert small == [], small


def test_a_wide_tables_shadow_stands_beside_its_cells_and_only_while_there_is_more(visit, types, artifacts) -> None:
    page, _ = visit.open(types["speech-id"], PHONE)
    table = page.locator(".table-wrap").first
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    assert table.get_attribute("data-more") == "right"
    # the part that scrolls looks the same with the shadow and without it: nothing over a cell
    inner = table.evaluate("""b => { const r = b.getBoundingClientRect(); const s = getComputedStyle(b);
        const l = parseFloat(s.borderLeftWidth), rt = parseFloat(s.borderRightWidth);
        return {x: r.x + l, y: r.y, width: r.width - l - rt, height: r.height}; }""")
    assert inner["width"] < table.bounding_box()["width"]          # a gutter on each side
    with_shadow = page.screenshot(clip=inner)
    whole = page.screenshot(clip=table.bounding_box())
    table.evaluate("b => b.dataset.more = ''")
    assert page.screenshot(clip=inner) == with_shadow
    assert page.screenshot(clip=table.bounding_box()) != whole      # the shadow is there, in the gutter
    # scrolled to the end: more to the left only
    table.evaluate("b => b.scrollLeft = b.scrollWidth")
    page.wait_for_timeout(200)
    assert table.get_attribute("data-more") == "left"
    page.screenshot(path=str(artifacts / "screenshot-table-end-phone.png"))


def test_the_404_page_searches(visit, types, axe_source) -> None:
    page, response = visit.open(types["404"], PHONE)
    assert response.status == 404
    page.add_script_tag(content=axe_source)
    found = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']})"
                          ".then(r => r.violations.map(v => v.id))")
    assert found == []
    page.get_by_role("searchbox").fill("irigasi")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cari/**q=irigasi*")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results li").count() >= 1


def test_footnote_markers_on_the_side_by_side_page_stay_on_it(visit, types) -> None:
    page, _ = visit.open(types["side-by-side"])
    start = page.url
    marker = page.locator(".pair-cell[lang='en'] .footnote-ref a").first
    marker.click()
    page.wait_for_timeout(200)
    assert page.url.split("#")[0] == start.split("#")[0]
    target = page.evaluate("location.hash")
    assert target.startswith("#en-fn")
    note = page.locator(target)
    assert note.is_visible() and note.get_attribute("id") == target[1:]
    note.locator(".footnote-backref").click()                  # and back to the marker
    page.wait_for_timeout(200)
    assert page.evaluate("location.hash").startswith("#en-fnref")
