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


def test_verbose_shows_stages_with_times_and_quiet_shows_nothing(project: Path) -> None:
    verbose = CliRunner().invoke(main, ["build", str(project), "-v"])
    assert verbose.exit_code == 0, verbose.output
    assert "s] read 2 speeches" in verbose.output and "s] wrote " in verbose.output
    quiet = CliRunner().invoke(main, ["build", str(project), "-q"])
    assert quiet.exit_code == 0 and quiet.output == ""
    plain = CliRunner().invoke(main, ["build", str(project)])
    assert "read 2 speeches" not in plain.output and "Selesai / done" in plain.output
