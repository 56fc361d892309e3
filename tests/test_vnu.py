"""The Nu Html Checker finds no error and no warning in any page of the sample site, of an
English-only site, or in the theme's stylesheet.

vnu-jar comes from npm and runs on Debian's Java, both installed by `.ci/setup --test`. Outside CI
a missing one skips these tests, saying what to install; on CI (CI=true) it fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from browser.browsing import english_only_project
from speechgen.build import build
from speechgen.config import load_config

REPO = Path(__file__).resolve().parents[1]
VNU = REPO / "tests/browser/node_modules/vnu-jar/build/dist/vnu.jar"


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def vnu() -> list[str]:
    java = shutil.which("java")
    if java is None:
        _missing("java is missing (bash .ci/setup --test installs default-jre-headless)")
    if not VNU.is_file():
        _missing(f"{VNU.relative_to(REPO)} is missing (bash .ci/setup --test installs vnu-jar from npm)")
    return [java, "-jar", str(VNU)]


def check(vnu: list[str], site: Path) -> tuple[int, list[str]]:
    """Every HTML page and stylesheet of a built site through the checker: (files checked, problems).
    A problem is an error, a warning (an "info" of subType "warning") or a file it could not read."""
    files = sorted(str(p) for p in site.rglob("*") if p.suffix in (".html", ".css"))
    result = subprocess.run([*vnu, "--format", "json", "--also-check-css", *files],
                            capture_output=True, text=True, timeout=900)
    try:
        messages = json.loads(result.stderr)["messages"]      # the report goes to stderr
    except (ValueError, KeyError):
        raise AssertionError(f"the checker did not report: {result.stderr[-2000:]}") from None
    problems = [f"{m.get('url', '?').removeprefix('file:' + str(site))}:{m.get('lastLine')}: "
                f"{m.get('subType') or m['type']}: {m.get('message')}"
                for m in messages if m["type"] != "info" or m.get("subType") == "warning"]
    return len(files), problems


@pytest.mark.pdf
def test_the_sample_site_has_no_html_or_css_error_or_warning(vnu, tmp_path: Path) -> None:
    """The repository's own sample: two languages, copies, editions, a changes page, PDFs."""
    site = tmp_path / "site"
    build(load_config(REPO), out=site)
    files, problems = check(vnu, site)
    assert files >= 30 and (site / "_assets/style.css").is_file()
    assert problems == []


def test_an_english_only_site_has_no_html_error_or_warning(vnu, tmp_path: Path) -> None:
    project = english_only_project(tmp_path / "project")
    build(load_config(project))
    files, problems = check(vnu, project / "site")
    assert files >= 15
    assert problems == []


def test_the_checker_reports_what_it_should(vnu, tmp_path: Path) -> None:
    """The report is read right: a section with no heading is a warning, a typo in CSS an error."""
    (tmp_path / "a.html").write_text("<!doctype html><html lang=en><title>x</title><section><p>x</section>")
    (tmp_path / "a.css").write_text(".x { colr: red; }\n")
    files, problems = check(vnu, tmp_path)
    assert files == 2 and len(problems) == 2, problems
    assert any("warning: Section lacks heading" in p for p in problems)
    assert any("error: CSS: “colr”" in p for p in problems)
