"""A copy URL printed on a final card answers for good: once a speech's first edition is released,
`speechgen release` records its card recipients, and no build can drop one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project, tree_bytes
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.release import release

pytestmark = pytest.mark.pdf

RECORD = "editions/2025/kenegaraan/kenegaraan.kartu.txt"
SPEECH = "speeches/2025/kenegaraan.id.md"


@pytest.fixture
def project(released_project: Path) -> Path:
    return released_project


def _build(project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf"])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _recorded(project: Path) -> list[str]:
    return [line.split("\t")[0] for line in (project / RECORD).read_text("utf-8").splitlines()
            if line and not line.startswith("#")]


def _drop_recipient(project: Path, ident: str) -> None:
    path = project / "recipients.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {ident}")
    del lines[start:start + 3]
    path.write_text("".join(lines), "utf-8")


def test_release_records_the_recipients_of_final_cards(project: Path) -> None:
    assert _recorded(project) == ["dpr", "mpr", "arsip"]
    assert "dpr\tDewan Perwakilan Rakyat" in (project / RECORD).read_text("utf-8")


def test_removing_a_printed_recipient_is_refused_and_the_site_is_kept(project: Path) -> None:
    assert _build(project)[0] == 0
    before = tree_bytes(project / "site")
    _drop_recipient(project, "mpr")
    code, output = _build(project)
    assert code == 1
    assert "recipients.yaml: recipient 'mpr' (Majelis Permusyawaratan Rakyat) was removed" in output
    line = next(n for n, l in enumerate((project / RECORD).read_text("utf-8").splitlines(), 1) if l.startswith("mpr\t"))
    assert f"({RECORD}:{line})" in output
    assert tree_bytes(project / "site") == before          # the printed copy page is still there
    assert (project / "site/2025/kenegaraan/salinan/mpr/index.html").exists()


def test_unchoosing_a_printed_recipient_names_the_speech_line(project: Path) -> None:
    source = project / SPEECH
    text = source.read_text("utf-8")
    source.write_text(text.replace("recipients: [lembaga-negara, arsip]", "recipients: [lembaga-negara]"), "utf-8")
    line = next(n for n, l in enumerate(source.read_text("utf-8").splitlines(), 1) if l.startswith("recipients:"))
    code, output = _build(project)
    assert code == 1
    assert f"{SPEECH}:{line}: recipients: 'arsip' (Arsip Nasional) is no longer chosen" in output


def test_a_recipient_added_after_release_is_recorded_by_the_next_release(project: Path) -> None:
    with (project / "recipients.yaml").open("a", encoding="utf-8") as handle:
        handle.write("  - id: dpd\n    name: Dewan Perwakilan Daerah\n    group: lembaga-negara\n")
    code, output = _build(project)
    assert code == 0, output
    assert "2025/kenegaraan: 1 kartu final belum dicatat / final cards not yet recorded" in output
    assert release(load_config(project), jobs=1) == []            # nothing new to release, cards recorded
    assert _recorded(project) == ["dpr", "mpr", "arsip", "dpd"]
    code, output = _build(project)
    assert code == 0 and "not yet recorded" not in output
    _drop_recipient(project, "dpd")
    assert _build(project)[0] == 1                                   # now printed: it stays


def test_an_unreleased_speech_may_lose_a_recipient(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "fresh")
    _drop_recipient(project, "mpr")
    code, output = _build(project)
    assert code == 0, output
    assert not (project / RECORD).exists()
