"""Link previews (a 1200x630 PNG per speech page, in Open Graph and JSON-LD) and the favicon."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from conftest import copy_project
from speechgen.build import build
from speechgen.config import load_config
from speechgen.render.preview import SIZE, favicon_png, preview_png


def _jsonld(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1])


def test_every_speech_page_has_its_own_preview_image(project: Path) -> None:
    build(load_config(project))
    site = project / "site"
    ids = site / "2025/kenegaraan/pratinjau.png"
    ens = site / "2025/kenegaraan/en/pratinjau.png"
    for path in (ids, ens, site / "2024/lama/pratinjau.png"):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == SIZE
            # drawn, not blank: ink of the title and the accent bar
            colours = image.convert("RGB").getcolors(4096)
            assert colours is not None and len(colours) > 8
    assert ids.read_bytes() != ens.read_bytes()                # each language's own title
    page = (site / "2025/kenegaraan/index.html").read_text()
    assert _jsonld(page)["image"] == "https://pidato.example.go.id/arsip/2025/kenegaraan/pratinjau.png"
    en_page = (site / "2025/kenegaraan/en/index.html").read_text()
    assert _jsonld(en_page)["image"].endswith("/2025/kenegaraan/en/pratinjau.png")


def test_previews_are_the_same_bytes_from_a_clean_build_and_kept_by_their_input(project: Path, tmp_path: Path) -> None:
    first = build(load_config(project))
    again = copy_project(tmp_path / "again")
    build(load_config(again))
    for rel in ("2025/kenegaraan/pratinjau.png", "2025/kenegaraan/en/pratinjau.png", "favicon.png"):
        assert (project / "site" / rel).read_bytes() == (again / "site" / rel).read_bytes(), rel
    assert first.rendered > 0
    # a title change redraws that page's preview only
    source = project / "speeches/2025/kenegaraan.en.md"
    before = {p: p.read_bytes() for p in (project / "site").rglob("pratinjau.png")}
    source.write_text(source.read_text().replace("title: Test State Address", "title: Test State Address, Revised"))
    build(load_config(project))
    changed = [p for p, data in before.items() if p.read_bytes() != data]
    assert changed == [project / "site/2025/kenegaraan/en/pratinjau.png"]


def test_a_long_title_stays_inside_its_box() -> None:
    data = preview_png("Pidato " * 60, "Presiden Uji", "15 Agustus 2025", "Arsip Uji")
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        # the band between the title's box and the rule under it stays empty
        band = rgb.crop((80, 470, 1100, 495))
        assert band.getcolors(4096) is not None and len(band.getcolors(4096)) == 1


def test_the_favicon_is_the_emblem_or_the_titles_initial(project: Path) -> None:
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[pdf]\nemblem = "static/lambang.png"\n')
    build(load_config(project))
    with Image.open(project / "site/favicon.png") as icon:
        assert icon.size == (64, 64)
    plain = favicon_png(None, "Arsip Uji")
    assert plain != (project / "site/favicon.png").read_bytes()
    with Image.open(io.BytesIO(plain)) as icon:
        assert icon.size == (64, 64) and icon.getpixel((2, 2))[:3] == (138, 28, 28)


NOTO = Path("/usr/share/fonts/truetype/noto")


def _ink_columns(png: bytes, top: int = 196, bottom: int = 462) -> list[int]:
    """The x of every column of the title's box that holds ink (right of the accent bar)."""
    import numpy

    pixels = numpy.asarray(Image.open(io.BytesIO(png)).convert("L").crop((0, top, SIZE[0], bottom)))
    return [int(x) for x in numpy.nonzero(pixels.min(axis=0) < 128)[0] if x > 40]


def _words(columns: list[int], gap: int = 12) -> list[tuple[int, int]]:
    """Runs of ink columns apart by more than `gap` (the words of a line): (first, last)."""
    words = [[columns[0], columns[0]]]
    for x in columns[1:]:
        if x - words[-1][1] > gap:
            words.append([x, x])
        words[-1][1] = x
    return [tuple(w) for w in words]


def test_a_title_in_two_scripts_takes_each_character_from_the_font_that_has_it() -> None:
    """A Georgian word beside a Latin one: no font has both, so each run is drawn in its own font
    (the project's Georgian face, the bundled serif) on one baseline, never as empty boxes."""
    georgian = NOTO / "NotoSansGeorgian-Regular.ttf"
    if not georgian.is_file():
        pytest.skip("Debian's fonts-noto-core: .ci/setup --test")
    drawn = preview_png("ხალხი rakyat", "Ani", "16 Agustus 2025", "Arsip", extra_fonts=(georgian,))
    boxes = preview_png("ხალხი rakyat", "Ani", "16 Agustus 2025", "Arsip")           # no font has Georgian
    latin = preview_png("rakyat", "Ani", "16 Agustus 2025", "Arsip", extra_fonts=(georgian,))
    assert drawn != boxes
    # the Georgian word is drawn in the project's face: its glyphs are not the boxes drawn without it
    word = preview_png("ხალხი", "Ani", "16 Agustus 2025", "Arsip", extra_fonts=(georgian,))
    assert _ink_columns(word) != _ink_columns(preview_png("ხალხი", "Ani", "16 Agustus 2025", "Arsip"))
    # two words on one line, the Latin one in the bundled bold serif: as wide as drawn alone
    (first, last), = _words(_ink_columns(latin))
    georgian_word, latin_word = _words(_ink_columns(drawn))
    assert georgian_word[1] < latin_word[0]
    assert abs((latin_word[1] - latin_word[0]) - (last - first)) <= 2
