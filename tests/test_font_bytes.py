"""A project font replaced under the same name: every output drawn with it (link previews, books,
card sheets) is drawn again, and the incremental build equals a clean one byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import tree_bytes
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config

NOTO = Path("/usr/share/fonts/truetype/noto")
SOURCE = "speeches/2025/kenegaraan.id.md"


@pytest.mark.pdf
def test_a_font_replaced_under_its_name_leaves_nothing_stale(project: Path, tmp_path: Path) -> None:
    if not (NOTO / "NotoSansGeorgian-Regular.ttf").is_file():
        pytest.skip("Debian's fonts-noto-core is not installed")
    fonts = project / "static/fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    font = fonts / "Tambahan.ttf"
    shutil.copyfile(NOTO / "NotoSansGeorgian-Regular.ttf", font)
    with (project / "speechgen.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[pdf]\nfonts = ["static/fonts/Tambahan.ttf"]\n')
    source = project / SOURCE
    text = source.read_text("utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    # a title only the project's font can draw (no bundled font has Georgian): the preview takes
    # the first font that has it all
    source.write_text(text.replace(title, "title: საქართველო", 1).replace("Isi bagian ekonomi.",
                                                                           "Isi bagian ekonomi (საქართველო).", 1), "utf-8")
    build(load_config(project), pdf=True, search=False, jobs=1)
    before = tree_bytes(project / "site")
    shutil.copyfile(NOTO / "NotoSerifGeorgian-Regular.ttf", font)     # other glyphs, the same name
    build(load_config(project), pdf=True, search=False, jobs=1)
    after = tree_bytes(project / "site")
    clean = tmp_path / "clean"
    build(load_config(project), out=clean, pdf=True, search=False, jobs=1, cache=Cache.disabled())
    expected = tree_bytes(clean)
    preview = "2025/kenegaraan/pratinjau.png"
    assert after[preview] != before[preview]                            # the preview is drawn with it
    assert after["2025/kenegaraan/kenegaraan.id.pdf"] != before["2025/kenegaraan/kenegaraan.id.pdf"]
    stale = sorted(name for name in expected if name != ".speechgen-output"
                   and after.get(name) != expected[name])
    assert stale == []
