"""`speechgen serve` as a person runs it: a process started on a cold cache, a browser asking for
pages, an edit, then Ctrl+C (sent to the whole process group, as a terminal does) or `kill`.

What the person sees is asserted: the URL as the first line, an answer within two seconds, the
edit on the page, exit status 0 with one line and no traceback, and nothing left in the
temporary folder (the preview's own folder, WeasyPrint's font folders)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import copy_project

FIRST_ANSWER = 2.0            # seconds from start to the first HTTP answer, cold cache
pytestmark = pytest.mark.pdf


@pytest.fixture(autouse=True)
def _no_preview_outlives_its_test():
    """A test that fails midway leaves no preview running (its whole process group is killed)."""
    yield
    while Serve.started_here:
        process = Serve.started_here.pop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Serve:
    """`python -m speechgen serve PROJECT --port 0` in a session of its own."""

    started_here: list[subprocess.Popen] = []

    def __init__(self, project: Path, tmp: Path, cache: Path) -> None:
        env = {**os.environ, "TMPDIR": str(tmp), "SPEECHGEN_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
        self.started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "speechgen", "serve", str(project), "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                        start_new_session=True)
        Serve.started_here.append(self.process)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=lambda s=stream, l=lines: l.extend(iter(s.readline, "")), daemon=True).start()
        self.url = self._url()

    def _url(self) -> str:
        while time.monotonic() - self.started < 30:
            if self.out:
                match = re.search(r"http://127\.0\.0\.1:\d+/", self.out[0])
                assert match, self.out[0]
                return match.group(0)
            assert self.process.poll() is None, "".join(self.err)
            time.sleep(0.01)
        raise AssertionError("no URL printed: " + "".join(self.err))

    def get(self, path: str = "") -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def until(self, path: str, test, limit: float = 90) -> str:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            status, body = self.get(path)
            if test(status, body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path}: not as expected within {limit} s; log:\n{''.join(self.err)}")

    def end(self, how: signal.Signals, group: bool) -> tuple[int, float]:
        asked = time.monotonic()
        if group:
            os.killpg(self.process.pid, how)       # Ctrl+C in a terminal: every process of the group
        else:
            self.process.send_signal(how)
        code = self.process.wait(timeout=30)
        took = time.monotonic() - asked
        time.sleep(0.2)                              # the readers take the last lines
        return code, took


def _leftovers(tmp: Path, within: float = 10.0) -> list[str]:
    """What is left in the temporary folder once the preview's own `rm` (started as it exits) has
    had `within` seconds."""
    end = time.monotonic() + within
    while (left := sorted(p.name for p in tmp.iterdir())) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def test_serve_answers_at_once_shows_an_edit_and_stops_cleanly(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    stale = tmp / "speechgen-serve-old-999999999-abcdefgh"    # a killed preview's folder (no such process)
    (stale / "site").mkdir(parents=True)
    serve = Serve(project, tmp, tmp_path / "cache")

    status, body = serve.get()
    first = time.monotonic() - serve.started
    assert first < FIRST_ANSWER, f"first answer after {first:.2f} s"
    assert status in (200, 503)
    if status == 503:                                  # still building: says so, both languages, and reloads
        assert "Membangun pratinjau" in body and "Building the preview" in body
        assert 'http-equiv="refresh"' in body
    assert not stale.exists(), "a killed preview's folder is cleaned at the next start"
    mine = [p for p in tmp.iterdir() if p.name.startswith("speechgen-serve-project-")]
    assert len(mine) == 1, _leftovers(tmp, within=0)  # named for the project

    page = "2025/kenegaraan/"
    serve.until(page, lambda s, b: s == 200 and "<html" in b)
    source = project / "speeches/2025/kenegaraan.id.md"
    source.write_text(source.read_text(encoding="utf-8").replace("title: ", "title: Diubah ", 1), encoding="utf-8")
    serve.until(page, lambda s, b: s == 200 and "Diubah" in b)

    code, took = serve.end(signal.SIGINT, group=True)
    assert code == 0, "".join(serve.err)
    assert took < 10, f"Ctrl+C took {took:.1f} s"
    err = "".join(serve.err)
    assert "Traceback" not in err and "Error" not in err, err
    assert serve.err[-1].strip() == "Pratinjau dihentikan / preview stopped.", err
    assert serve.out[0].startswith("Pratinjau / preview: http://127.0.0.1:"), serve.out
    assert _leftovers(tmp) == [], "the preview's folder and the workers' scratch folders are removed"


def test_serve_killed_while_making_pdfs_ends_cleanly(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    serve = Serve(project, tmp, tmp_path / "cache")
    serve.until("", lambda s, b: s == 200)
    # The pages are there; the PDFs are being made (a cold cache): `kill` now.
    code, took = serve.end(signal.SIGTERM, group=False)
    err = "".join(serve.err)
    assert code == 0, err
    assert took < 10, f"SIGTERM took {took:.1f} s"
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert serve.err[-1].strip() == "Pratinjau dihentikan / preview stopped.", err
    assert _leftovers(tmp) == []
    children = subprocess.run(["ps", "-o", "pid,etimes,args", "-s", str(serve.process.pid)], capture_output=True,
                              text=True).stdout.splitlines()[1:]
    children = [line for line in children if "<defunct>" not in line]   # ended; reaped by whoever adopts them
    assert children == [], f"worker processes left: {children}"


def test_only_folders_of_ended_previews_are_cleaned(tmp_path: Path) -> None:
    from speechgen.serve import clean_stale

    alive = tmp_path / f"speechgen-serve-p-{os.getppid()}-abcdefgh"     # a preview still running
    ended = tmp_path / "speechgen-serve-p-999999999-abcdefgh"
    other = tmp_path / "speechgen-serve-abcdefgh"                       # not a name this version makes
    for folder in (alive, ended, other):
        (folder / "site").mkdir(parents=True)
    assert clean_stale(tmp_path) == [ended]
    assert alive.is_dir() and other.is_dir() and not ended.exists()
