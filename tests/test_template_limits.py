"""A runaway project template stops with its own file and line, in bounded time and memory: never
an OverflowError, RecursionError or MemoryError traceback, never a build that runs for ever, and
never an error located in speechgen's own code."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import build_fails
from speechgen import templates


def _home(project: Path, block: str) -> None:
    (project / "templates").mkdir(exist_ok=True)
    (project / "templates/home.html").write_text('{% extends "!default/home.html" %}\n' + block + "\n", "utf-8")


@pytest.mark.parametrize("block, said", [
    ("{% block main %}{{ range(10**9)|length }}{% endblock %}", "larger than a template may pass"),
    ("{% block main %}{{ range(10**6)|length }}{% endblock %}", "Range too big"),
    ("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{% block main %}{{ r(1) }}{% endblock %}",
     "recursion deeper than Python allows"),
    ('{% block main %}{{ "x" * 10**8 }}{% endblock %}', "a text or list of 100,000,000 characters"),
    ('{% block main %}{{ [1, 2] * 10**8 }}{% endblock %}', "a text or list of 200,000,000 characters"),
    ('{% block main %}{{ "x"|center(10**9) }}{% endblock %}', "the number 1,000,000,000 is larger"),
    ("{% block main %}{{ 7 ** 10000 }}{% endblock %}", "a number too large for a template"),
])
def test_a_runaway_template_is_one_located_message(project: Path, block: str, said: str) -> None:
    _home(project, block)
    started = time.monotonic()
    output = build_fails(project, "templates/home.html:2: ", said, "(while rendering index.html)")
    assert time.monotonic() - started < 60
    assert "speechgen/templates.py" not in output


def test_loops_without_end_stop_at_the_render_time_limit(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(templates, "RENDER_SECONDS", 1.0)
    _home(project, "{% block main %}{% for a in range(100000) %}{% for b in range(100000) %}"
                   "{% endfor %}{% endfor %}{% endblock %}")
    started = time.monotonic()
    build_fails(project, "templates/home.html:2: the template took longer than 1 s to render")
    assert time.monotonic() - started < 30


def test_an_error_inside_a_template_function_names_the_template(project: Path) -> None:
    _home(project, "{% block main %}{{ label('id', 'no-such-word') }}{% endblock %}")
    output = build_fails(project, "templates/home.html:2: ")
    assert "speechgen/templates.py" not in output
