"""URLs and output paths are decided in one place; links are relative everywhere."""

from __future__ import annotations

from pathlib import Path

from speechgen.config import load_config
from speechgen.graph import make_site, pretty, relative, root_prefix
from speechgen.reader import read_project


def test_relative_links_between_outputs() -> None:
    assert relative("index.html", "2025/x/index.html") == "2025/x/index.html"
    assert relative("2025/x/index.html", "index.html") == "../../index.html"
    assert relative("2025/x/en/index.html", "2025/x/index.html#bab") == "../index.html#bab"
    assert relative("2025/x/index.html", "_assets/style.css") == "../../_assets/style.css"
    assert root_prefix("index.html") == "./" and root_prefix("a/b/index.html") == "../../"


def test_pretty_urls() -> None:
    assert pretty("index.html") == ""
    assert pretty("2025/x/index.html") == "2025/x/"
    assert pretty("feeds/id.xml") == "feeds/id.xml"


def test_site_decides_every_dest(project: Path) -> None:
    config = load_config(project)
    site = make_site(config, read_project(config))
    speech = next(s for s in site.speeches if s.slug == "kenegaraan")
    assert site.speech_dest(speech, "id") == "2025/kenegaraan/index.html"
    assert site.speech_dest(speech, "en") == "2025/kenegaraan/en/index.html"
    assert site.pdf_dest(speech, "en") == "2025/kenegaraan/kenegaraan.en.pdf"
    assert site.url("2025/kenegaraan/en/index.html") == "https://pidato.example.go.id/arsip/2025/kenegaraan/en/"
    dests = [p.dest for p in site.pages]
    assert len(dests) == len(set(dests))


def test_copies_resolve_groups_and_ids_in_file_order(project: Path) -> None:
    config = load_config(project)
    site = make_site(config, read_project(config))
    speech = next(s for s in site.speeches if s.slug == "kenegaraan")
    copies = site.copies_of(speech)
    assert [c.recipient.id for c in copies] == ["dpr", "mpr", "arsip"]
    assert [(c.number, c.total) for c in copies] == [(1, 3), (2, 3), (3, 3)]
    assert site.copy_dest(copies[0]) == "2025/kenegaraan/salinan/dpr/index.html"


def test_speakers_whose_names_share_a_slug_get_distinct_pages(project: Path) -> None:
    d = project / "speeches/2024"
    (d / "a.id.md").write_text("---\ntitle: A\nspeaker: Menteri Uji!\ndate: 2024-05-05\n---\nTeks\n")
    config = load_config(project)
    site = make_site(config, read_project(config))
    dests = sorted(a.dest for a in site.speakers)
    assert "pembicara/menteri-uji/index.html" in dests and "pembicara/menteri-uji-2/index.html" in dests


def test_slugs_differing_only_by_case_collide(project: Path) -> None:
    import pytest
    from speechgen.errors import SourceError
    d = project / "speeches/2025"
    (d / "Kenegaraan.id.md").write_text("---\ntitle: A\nspeaker: B\ndate: 2025-01-01\nslug: kenegaraan\n---\n")
    config = load_config(project)
    with pytest.raises(SourceError) as info:
        make_site(config, read_project(config))
    message = str(info.value)
    assert "speeches/2025/Kenegaraan.id.md" in message and "speeches/2025/kenegaraan.id.md" in message
