"""`speechgen release` you can trust: one release at a time (real processes, started together or
killed with SIGKILL half-way), the ledger's folders the project's own, kept files that are PDFs,
a malformed ledger reported in bounded lines, and a full disk said as what it is."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project, refused, tree_bytes
from speechgen import editions, writer
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.editions import MAX_PROBLEMS, TMP_MARK
from speechgen.release import release

pytestmark = pytest.mark.pdf

RELEASED = {("2025/kenegaraan", "id", 1), ("2025/kenegaraan", "en", 1)}


def _small(dest: Path) -> Path:
    """The fixture project with one speech in two languages: two small PDFs to release."""
    project = copy_project(dest)
    for name in ("lama.id.md", "draf.id.md"):
        (project / "speeches/2024" / name).unlink()
    return project


def _ledger(project: Path) -> list[list[str]]:
    path = project / "editions.txt"
    if not path.exists():
        return []
    return [line.split() for line in path.read_text("utf-8").splitlines() if line and not line.startswith("#")]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _consistent(project: Path) -> set[tuple[str, str, int]]:
    """The ledger names each edition once, and each kept file holds the bytes its line says."""
    lines = _ledger(project)
    names = [(l[0], l[1], int(l[2])) for l in lines]
    assert len(names) == len(set(names)), f"an edition recorded twice: {names}"
    for speech, lang, number, _date, sha, size, _pages, _text, source_sha in lines:
        kept = project / "editions" / speech / f"{speech.split('/')[1]}.{lang}.edisi-{number}.pdf"
        assert _sha(kept) == sha and kept.stat().st_size == int(size)
        assert _sha(kept.with_suffix(".md")) == source_sha
    return set(names)


def _builds(project: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(project), "--no-search", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def _release(project: Path, tmp: Path) -> subprocess.Popen:
    """`python -m speechgen release` in a process of its own (its own session, so that the test can
    clean up its PDF workers), with its temporary folders under `tmp`."""
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "speechgen", "release", str(project), "-j", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)}, start_new_session=True)


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        out, err = process.communicate(timeout=120)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)      # its PDF workers, if any are left
        except ProcessLookupError:
            pass
    return process.returncode, out + err


# --- one release at a time -----------------------------------------------------------------------------

@pytest.mark.parametrize("apart", [0, 1, 2])
def test_two_releases_at_once_release_each_edition_once(tmp_path: Path, apart: int) -> None:
    project = _small(tmp_path / "project")
    first = _release(project, tmp_path / "tmp")
    time.sleep(apart)
    second = _release(project, tmp_path / "tmp")
    outcomes = [_finish(first), _finish(second)]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert "Traceback" not in "".join(out for _, out in outcomes)
    released = [out for _, out in outcomes if "2 edisi dirilis / released" in out]
    nothing = [out for _, out in outcomes if "nothing to release" in out]
    assert len(released) == 1 and len(nothing) == 1, outcomes
    assert _consistent(project) == RELEASED
    # what the release reported is what it kept
    for speech, lang, number, _date, sha, *_ in _ledger(project):
        short = " ".join(sha[i:i + 4] for i in range(0, 16, 4))
        assert f"{speech} ({lang}): edisi/edition {number}, " in released[0] and short in released[0]
    if "menunggu" in nothing[0]:
        assert "another release or build is running in this project; waiting" in nothing[0]
    _builds(project)


def test_a_release_waits_for_the_one_running(tmp_path: Path) -> None:
    """Started together, the second release says it waits (the lock is taken before the build)."""
    project = _small(tmp_path / "project")
    fd = writer.lock_project(project, exclusive=True, wait=lambda: None)   # a release holding the lock
    try:
        waiting = _release(project, tmp_path / "tmp")
        deadline = time.monotonic() + 60
        said = b""
        while b"waiting" not in said and time.monotonic() < deadline:
            said += os.read(waiting.stderr.fileno(), 4096)
        assert b"another release or build is running in this project; waiting for it to finish" in said
        time.sleep(0.5)
        assert waiting.poll() is None and not (project / "editions.txt").exists()
    finally:
        os.close(fd)
    code, out = _finish(waiting)
    assert code == 0, out
    assert _consistent(project) == RELEASED


def _killed_at(project: Path, tmp: Path, moment: str) -> None:
    process = _release(project, tmp)
    deadline = time.monotonic() + 60
    try:
        if moment == "rendering":          # its private build folder is there: the PDFs are rendering
            while not any(tmp.glob("speechgen-check-*")) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)
        else:                              # "keeping": the first kept file (or its temporary file) appears
            folder = project / "editions"
            while (process.poll() is None and time.monotonic() < deadline
                   and not (folder.is_dir() and any(p.is_file() for p in folder.rglob("*")))):
                time.sleep(0.001)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        code, _ = _finish(process)
    assert code in (-signal.SIGKILL, 0)


@pytest.mark.parametrize("moment", ["rendering", "keeping"])
def test_a_release_killed_half_way_leaves_the_ledger_whole(tmp_path: Path, moment: str) -> None:
    project = _small(tmp_path / "project")
    _killed_at(project, tmp_path / "tmp", moment)
    assert _consistent(project) <= RELEASED           # nothing, or every edition: never half a line
    code, out = _finish(_release(project, tmp_path / "tmp"))
    assert code == 0, out
    assert _consistent(project) == RELEASED
    leftovers = [p for p in [*project.iterdir(), *(project / "editions").rglob("*")] if TMP_MARK in p.name]
    assert leftovers == []
    _builds(project)


# --- the ledger's folders are the project's ----------------------------------------------------------

@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = _small(tmp_path_factory.mktemp("released") / "project")
    release(load_config(project), jobs=1)
    return project


@pytest.fixture
def project(released: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(released, copy, symlinks=True)
    return copy


def _refused(project: Path, *expected: str, command: str = "build") -> str:
    return refused(project, *expected, command=command,
                   options=("--no-search",) if command == "build" else ("-j", "1"))


def test_a_linked_editions_folder_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.move(project / "editions", outside)
    (project / "editions").symlink_to(outside)
    _refused(project, "editions: is a symbolic link (to ", "must be a real folder inside the project")
    _refused(project, "editions: is a symbolic link", command="release")


def test_a_linked_folder_inside_editions_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.move(project / "editions/2025", outside)
    (project / "editions/2025").symlink_to(outside)
    _refused(project, "editions/2025: is a symbolic link")


def test_release_never_writes_through_a_linked_editions_folder(tmp_path: Path) -> None:
    fresh = _small(tmp_path / "fresh")
    outside = tmp_path / "outside"
    outside.mkdir()
    (fresh / "editions").symlink_to(outside)
    _refused(fresh, "editions: is a symbolic link", command="release")
    assert list(outside.iterdir()) == [] and not (fresh / "editions.txt").exists()


def test_a_linked_ledger_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    shutil.move(project / "editions.txt", outside)
    (project / "editions.txt").symlink_to(outside)
    _refused(project, "editions.txt: is a symbolic link; the editions ledger must be a file of the project")
    _refused(project, "editions.txt: is a symbolic link", command="release")


def test_a_text_file_vouched_for_by_the_ledger_is_not_a_pdf(project: Path) -> None:
    kept = project / "editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf"
    old = _sha(kept)
    kept.write_text("not a PDF at all\n")
    ledger = project / "editions.txt"
    ledger.write_text(ledger.read_text().replace(old, _sha(kept)))
    _refused(project, "editions.txt:", "its kept PDF editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf "
             "is not a PDF (it does not start with %PDF-)")


def test_a_kept_file_linked_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    kept = project / "editions/2025/kenegaraan/kenegaraan.en.edisi-1.pdf"
    outside = tmp_path / "outside.pdf"
    shutil.move(kept, outside)
    kept.symlink_to(outside)
    _refused(project, "its kept PDF editions/2025/kenegaraan/kenegaraan.en.edisi-1.pdf is a symbolic link")


def test_a_kept_source_that_is_not_text_is_refused(project: Path) -> None:
    kept = project / "editions/2025/kenegaraan/kenegaraan.id.edisi-1.md"
    old = _sha(kept)
    kept.write_bytes(b"\x00\x01binary\xff")
    ledger = project / "editions.txt"
    ledger.write_text(ledger.read_text().replace(old, _sha(kept)))
    _refused(project, "its kept source editions/2025/kenegaraan/kenegaraan.id.edisi-1.md is not text (UTF-8)")


# --- a malformed ledger is reported in bounded lines -------------------------------------------------

def test_a_ledger_of_a_million_bad_lines(project: Path) -> None:
    ledger = project / "editions.txt"
    first = len(ledger.read_text().splitlines()) + 1
    ledger.write_text(ledger.read_text() + "2025/kenegaraan id three\n" * 1_400_000)
    started = time.perf_counter()
    out = _refused(project, f"editions.txt:{first}: 3 fields where a ledger line has 9",
                   f"editions.txt: and 1,399,950 more problems (only the first {MAX_PROBLEMS} are listed)")
    took = time.perf_counter() - started
    assert out.count("fields where a ledger line has 9") == MAX_PROBLEMS
    assert len(out.splitlines()) < MAX_PROBLEMS + 5
    assert took < 20, took


def test_many_lines_naming_missing_files_stop_being_checked(project: Path) -> None:
    ledger = project / "editions.txt"
    line = next(l for l in ledger.read_text().splitlines() if l.startswith("2025/kenegaraan id 1 "))
    fields = line.split()
    extra = "".join(" ".join([f"2025/hilang-{n}", *fields[1:]]) + "\n" for n in range(5000))
    ledger.write_text(ledger.read_text() + extra)
    out = _refused(project, "editions.txt:", "the kept files of line ")
    assert out.count("is missing") == MAX_PROBLEMS


# --- a full disk ---------------------------------------------------------------------------------------

def _full_when(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """The disk fills up when a file whose name holds one of `names` is written (its fsync fails)."""
    real = os.fsync

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if any(name in path for name in names):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(editions.os, "fsync", fsync)


@pytest.mark.parametrize("full", ["kenegaraan.en.edisi-1.pdf", f"editions.txt{TMP_MARK}"])
def test_a_full_disk_during_release_names_the_file_and_the_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full: str) -> None:
    fresh = _small(tmp_path / "fresh")
    _full_when(monkeypatch, full)
    out = _refused(fresh, "speechgen release cannot write this file: no space left on the device; free "
                   "some space and run `speechgen release` again. Nothing was released", command="release")
    written = "editions.txt" if "editions.txt" in full else "editions/2025/kenegaraan/kenegaraan.en.edisi-1.pdf"
    assert f"{fresh}/{written}: speechgen release" in out
    assert "site" not in out.replace(str(fresh), "") and "tmp" not in out.replace(str(fresh), "")
    assert not (fresh / "editions.txt").exists()
    assert [p for p in (fresh / "editions").rglob("*") if p.is_file()] == []      # nothing half-kept
    monkeypatch.undo()
    code, said = _finish(_release(fresh, tmp_path / "tmp"))
    assert code == 0, said
    assert _consistent(fresh) == RELEASED


def test_a_full_disk_adding_to_a_ledger_leaves_it_as_it_was(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "speeches/2025/baru.id.md").write_text(
        "---\ntitle: Pidato Baru\nspeaker: Menteri Uji\ndate: 2025-10-01\n---\n\nTeks baru.\n")
    before = (project / "editions.txt").read_bytes()
    kept = tree_bytes(project / "editions")
    _full_when(monkeypatch, f"editions.txt{TMP_MARK}")
    _refused(project, f"{project}/editions.txt: speechgen release cannot write this file: no space left",
             command="release")
    assert (project / "editions.txt").read_bytes() == before
    assert tree_bytes(project / "editions") == kept


def test_a_full_disk_while_rendering_the_release_says_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = _small(tmp_path / "fresh")
    real = open

    def full(path, mode="r", *args, **kwargs):
        if "x" in mode and str(path).endswith(".pdf"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(writer, "open", full, raising=False)
    out = _refused(fresh, "speechgen release: cannot render the editions' PDFs in the temporary folder",
                   "no space left on the device; free some space", "Nothing was released", command="release")
    assert "speechgen-check-" not in out and "the site" not in out
    assert not (fresh / "editions.txt").exists() and not (fresh / "editions").exists()
