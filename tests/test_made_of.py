"""Every output says what it is made of (`graph.Output.made_of`): the graph's values, and the
files it is drawn with by their bytes' digests, never a path. The memo makes an output's key from
that (`memo.output_key`): the same key wherever the project is, another when a file it is drawn
with changes under the same name."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from speechgen import memo
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config
from speechgen.graph import Output, Site

NOTO = Path("/usr/share/fonts/truetype/noto")
MADE = ("page", "preview", "favicon", "pdf", "edition", "qr", "cards", "mailroom", "certificate")


def _planned(project: Path) -> Site:
    """The site as the build plans it (books deferred: the inventory is the same)."""
    seen: list[Site] = []
    build(load_config(project), write=False, defer_pdfs=True, pdf=True, search=False, jobs=1,
          cache=Cache.disabled(), inspect=lambda _folder, site: seen.append(site))
    return seen[0]


def _with_materials(project: Path) -> Path:
    """The fixture project drawn with a font of its own, and the emblem on its books, cards and previews."""
    if not (NOTO / "NotoSansGeorgian-Regular.ttf").is_file():
        pytest.skip("Debian's fonts-noto-core is not installed")
    (project / "static/fonts").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(NOTO / "NotoSansGeorgian-Regular.ttf", project / "static/fonts/Tambahan.ttf")
    with (project / "speechgen.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[pdf]\nfonts = ["static/fonts/Tambahan.ttf"]\nemblem = "static/lambang.png"\n')
    return project


def _values(made_of: tuple) -> list:
    """Every value in `made_of`, tuples opened (a model object is one value)."""
    found = []
    for value in made_of:
        found += _values(value) if isinstance(value, tuple) else [value]
    return found


def _keys(site: Site) -> dict[str, str]:
    return {o.dest: memo.output_key(o) for o in site.outputs}


@pytest.mark.pdf
def test_every_output_drawn_or_rendered_says_what_it_is_made_of_never_by_a_path(project: Path) -> None:
    site = _planned(_with_materials(project))
    kinds = {o.kind for o in site.outputs}
    assert set(MADE) - {"edition", "certificate"} <= kinds    # (nothing released, no certificate in the fixture)
    for output in site.outputs:
        if output.kind in MADE:
            assert output.made_of, output
        assert not [v for v in _values(output.made_of) if isinstance(v, Path)], output
    font = hashlib.sha256((project / "static/fonts/Tambahan.ttf").read_bytes()).hexdigest()
    emblem = hashlib.sha256((project / "static/lambang.png").read_bytes()).hexdigest()
    drawn = {o.kind for o in site.outputs if font in _values(o.made_of)}
    assert drawn == {"preview", "pdf", "cards"}
    assert {o.kind for o in site.outputs if emblem in _values(o.made_of)} == {"pdf"}     # the books' cover
    picture = site.materials.picture                          # the emblem as re-encoded for the screen
    assert picture and {o.kind for o in site.outputs if picture in _values(o.made_of)} == {"preview", "favicon",
                                                                                            "cards"}
    pages = site.outputs_of("page")
    assert all(len(o.made_of) == 1 and o.made_of[0] in site.pages for o in pages)


@pytest.mark.pdf
def test_an_outputs_key_is_the_same_elsewhere_and_another_when_its_font_changes_under_its_name(
        project: Path, tmp_path: Path) -> None:
    project = _with_materials(project)
    before = _keys(_planned(project))
    elsewhere = tmp_path / "checkout" / "elsewhere"
    shutil.copytree(project, elsewhere)
    assert _keys(_planned(elsewhere)) == before                # a CI checkout at another path
    shutil.copyfile(NOTO / "NotoSerifGeorgian-Regular.ttf", project / "static/fonts/Tambahan.ttf")
    after = _keys(_planned(project))
    changed = {dest for dest in before if after.get(dest) != before[dest]}
    site = _planned(project)
    drawn = {o.dest for o in site.outputs if o.kind in ("preview", "pdf", "cards")}
    assert drawn and changed == drawn


def test_the_key_follows_each_value_an_output_is_made_of() -> None:
    output = Output("a/pratinjau.png", "preview", "a.md", made_of=("Judul", "Pembicara", "2025-08-16", "id",
                                                                  "Arsip", "e" * 64, "f" * 64))
    first = memo.output_key(output)
    for n in range(len(output.made_of)):
        other = output.made_of[:n] + (output.made_of[n] + "x",) + output.made_of[n + 1:]
        assert memo.output_key(dataclasses.replace(output, made_of=other)) != first
    assert memo.output_key(dataclasses.replace(output, made_of=output.made_of[::-1])) != first
    assert memo.output_key(output, "derived") != first != memo.output_key(output, globals_="g")
    assert memo.output_key(dataclasses.replace(output, dest="b/pratinjau.png")) != first


@pytest.mark.pdf
def test_a_released_edition_is_made_of_the_bytes_the_ledger_names(released_project: Path) -> None:
    site = _planned(released_project)
    editions = site.outputs_of("edition")
    assert len(editions) == 6                                  # three editions, at their kept names and as the latest
    for output in editions:
        assert output.source is not None
        assert output.made_of == (hashlib.sha256(output.source.read_bytes()).hexdigest(),)
