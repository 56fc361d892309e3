from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from speechgen import __version__
from speechgen.cli import main


def test_help_is_bilingual() -> None:
    result = CliRunner().invoke(main, ["build", "--help"])
    assert result.exit_code == 0
    assert "Bangun situs" in result.output and "build the site" in result.output
    assert "--drafts" in result.output and "--out" in result.output


def test_version() -> None:
    assert __version__ in CliRunner().invoke(main, ["--version"]).output


def test_build_reports_what_it_did(project: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 0, result.output
    assert "2 pidato/speeches" in result.output
    assert (project / "site/index.html").is_file()


def test_missing_project_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "speechgen.toml: not found" in result.output
