"""Each folder under fixtures/invalid/ breaks the fixture project one way; the build must say
exactly where and what, exit 1 without a traceback, and leave the previous site as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, copy_project, tree_bytes
from speechgen.cli import main

CASES = sorted(p.name for p in (FIXTURES / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_invalid_project_fails_with_located_message(case: str, tmp_path: Path, monkeypatch) -> None:
    project = copy_project(tmp_path / "p")
    runner = CliRunner()
    first = runner.invoke(main, ["build", str(project), "-q"])
    assert first.exit_code == 0, first.output
    before = tree_bytes(project / "site")

    copy_project(tmp_path / "broken", FIXTURES / "invalid" / case / "files")
    # Same output folder: a failed build must leave the earlier site byte for byte.
    monkeypatch.chdir(tmp_path / "broken")
    result = runner.invoke(main, ["build", ".", "--out", str(project / "site")])

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for expected in (FIXTURES / "invalid" / case / "expected.txt").read_text().splitlines():
        assert expected in result.output, f"missing {expected!r} in:\n{result.output}"
    assert "nothing was published" in result.output
    assert tree_bytes(project / "site") == before
    assert not list(tmp_path.glob("p/.site.tmp-*")), "temporary build folder left behind"


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    bad = project / "speeches" / "2025"
    (bad / "a.id.md").write_text("---\ntitle: A\nspeaker: X\ndate: 2025-02-30\n---\n")
    (bad / "b.id.md").write_text("no front matter\n")
    (project / "recipients.yaml").write_text("recipients:\n  - id: dpr\n    name: A\n  - id: dpr\n    name: B\n")
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1
    assert "a.id.md:4: date 2025-02-30 is not a real day" in result.output
    assert "b.id.md:1: missing front matter" in result.output
    assert "recipients.yaml:4: duplicate recipient id 'dpr'" in result.output
