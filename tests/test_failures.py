"""Real failures of the output's disk, and two builds at once, through the command line.

Every failure is `path: reason`, exit 1, the last line "Gagal: ... nothing was published", the
previous output byte for byte as it was and nothing left behind (no `.site.tmp-*`), never a
traceback. A second build into one output waits for the first and the output is always one
whole site.

The failures are real, made as root: a file-size limit (EFBIG), a tiny tmpfs (ENOSPC), a tmpfs
remounted read-only (EROFS), and builds run without root's capabilities (EACCES/EPERM) on
folders they may not write. A test whose means are not available here is skipped.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import copy_project, tree_bytes
from speechgen.writer import MARKER

TIMEOUT = 120
NOBODY = 65534


# --- helpers ------------------------------------------------------------------------------------

def site_files(folder: Path) -> dict[str, bytes]:
    """The site's files and bytes, without the marker (it records the files' times)."""
    return {name: data for name, data in tree_bytes(folder).items() if name != MARKER}


def add_speeches(project: Path, count: int = 60) -> None:
    """Enough small speeches that a build with a cold cache holds the lock for a second or more
    (the pages, QR codes and search index are all made), far longer than two builds started
    together take to reach it."""
    folder = project / "speeches" / "2023"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"pidato-{i:03d}.id.md").write_text(
            f"---\ntitle: Pidato Nomor {i}\nspeaker: Pembicara {i % 7}\n"
            f"date: 2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}\n---\n\n"
            f"Isi pidato nomor {i}.\n\nParagraf kedua pidato {i}.\n", encoding="utf-8")


def command(project: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "speechgen", "build", str(project), "--out", str(out), "--no-pdf"]


def speechgen_build(project: Path, out: Path, *, env: dict[str, str] | None = None,
                    preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command(project, out), capture_output=True, text=True, timeout=TIMEOUT,
                          env=env, preexec_fn=preexec_fn, cwd="/")


def leftovers(*folders: Path) -> list[str]:
    """Temporary folders of a build (`.site.tmp-*`, `.site.tmp-search-*`) in these folders."""
    return sorted(p.name for folder in folders if folder.is_dir()
                  for p in folder.iterdir() if ".tmp-" in p.name)


def assert_refused(result: subprocess.CompletedProcess, where: Path, reason: str) -> None:
    """Exit 1; a `path: reason` line naming `where` (or a file in it) with the reason; the
    "nothing was published" line last; no traceback, no temporary path shown to the user."""
    shown = result.stdout + result.stderr
    assert result.returncode == 1, shown
    assert "Traceback" not in shown, shown
    lines = result.stderr.strip().splitlines()
    assert lines, shown
    assert lines[-1].startswith("Gagal:") and "nothing was published" in lines[-1], shown
    problems = [line for line in lines[:-1] if line.startswith(f"{where}/") or line.startswith(f"{where}:")]
    assert problems, f"no line names {where}:\n{shown}"
    assert any(reason in line.lower() for line in problems), f"no line says {reason!r}:\n{shown}"
    assert ".tmp-" not in result.stderr, f"a temporary path was shown to the user:\n{shown}"
    assert "Selesai" not in result.stdout


def _limit_file_size(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def _without_privileges() -> None:
    """Run as root without any capability: a folder is writable only by its mode and owner.
    (Dropping to `nobody` cannot work here: Python lives under /root, which is mode 0700.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for cap in range(64):
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    # execve as uid 0 gives the new program the bounding set, now empty.


@pytest.fixture
def unprivileged(tmp_path: Path) -> Callable[[], None] | None:
    """The preexec_fn that makes a build unprivileged; skips when that cannot be done here."""
    if os.geteuid() != 0:
        return None                     # already a user whom modes stop
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o555)
    try:
        result = subprocess.run([sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"],
                                preexec_fn=_without_privileges, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot drop root's capabilities here: {exc}")
    finally:
        probe.chmod(0o755)
    if result.returncode == 0:
        pytest.skip("a build without capabilities can still write a mode 0555 folder here")
    return _without_privileges


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where`; the test is skipped where mounting is not permitted."""
    where.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                                  str(where)], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def built(project: Path, out: Path, **kwargs) -> dict[str, bytes]:
    """Build successfully and return the output's bytes (marker included)."""
    result = speechgen_build(project, out, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return tree_bytes(out)


def change_sources(project: Path, big: int = 0) -> None:
    """A changed speech, and optionally a new static text file of `big` bytes."""
    speech = project / "speeches" / "2024" / "lama.id.md"
    speech.write_text(speech.read_text(encoding="utf-8") + "\nKalimat baru.\n", encoding="utf-8")
    if big:
        (project / "static" / "besar.txt").write_bytes(b"rakyat " * (big // 7 + 1))


# --- two builds at once ---------------------------------------------------------------------------

class _Lines:
    """Collects a process's stderr line by line, so a test can wait for a given line."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.02)
        return None

    def text(self) -> str:
        self._thread.join(timeout=TIMEOUT)
        return "".join(self.lines)


@pytest.mark.parametrize("sources", ["same", "different"])
def test_two_builds_at_once_take_turns_and_leave_one_whole_site(tmp_path: Path, sources: str) -> None:
    """Two builds started together into one --out: the second waits for the first, both succeed,
    and the output is exactly the clean build of the sources the last build read (with different
    sources a mixed site would show)."""
    first = copy_project(tmp_path / "first")
    add_speeches(first)
    second = first
    if sources == "different":
        second = tmp_path / "second"
        shutil.copytree(first, second)
        change_sources(second)
        (second / "speeches" / "2023" / "pidato-000.id.md").unlink()
    out = tmp_path / "out" / "site"
    # A cold cache: every page is rendered, so the first build holds the lock for a while.
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cold-cache")}
    procs = [subprocess.Popen(command(project, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd="/") for project in (first, second)]
    results = [proc.communicate(timeout=TIMEOUT) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, results):
        assert proc.returncode == 0, stdout + stderr
        assert "Traceback" not in stderr
    waited = [i for i, (_, stderr) in enumerate(results) if "waiting" in stderr]
    assert len(waited) == 1, [stderr for _, stderr in results]      # they took turns
    last = (first, second)[waited[0]]

    clean = tmp_path / "clean" / "site"
    built(last, clean)
    assert site_files(out) == site_files(clean)
    assert leftovers(out.parent) == [] and sorted(os.listdir(out.parent)) == ["site"]


def test_a_build_waits_while_another_holds_the_output(project: Path, tmp_path: Path) -> None:
    """While the output's parent is locked the build says it is waiting and touches nothing;
    once the lock is released it finishes and publishes the whole site."""
    out = tmp_path / "out" / "site"
    out.parent.mkdir()
    holder = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        proc = subprocess.Popen(command(project, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd="/")
        lines = _Lines(proc.stderr)
        notice = lines.wait_for("waiting", timeout=30)
        assert notice is not None, f"no waiting notice; exit {proc.poll()}: {''.join(lines.lines)}"
        assert str(out) in notice
        time.sleep(0.5)
        assert proc.poll() is None, "the build did not wait for the lock"
        assert sorted(os.listdir(out.parent)) == []          # nothing written while waiting
    finally:
        os.close(holder)
    stdout = proc.stdout.read()
    assert proc.wait(timeout=TIMEOUT) == 0, stdout + lines.text()
    assert "Selesai" in stdout
    clean = tmp_path / "clean" / "site"
    built(project, clean)
    assert site_files(out) == site_files(clean)
    assert leftovers(out.parent) == []


# --- the disk fails -------------------------------------------------------------------------------

def test_file_too_large_is_a_message_and_keeps_the_previous_site(project: Path, tmp_path: Path) -> None:
    """A write past the file-size limit (EFBIG): the file is named, the previous site stays."""
    out = tmp_path / "out" / "site"
    before = built(project, out)
    change_sources(project, big=400_000)
    # Larger than every other file of the site and every cache entry of this build.
    result = speechgen_build(project, out, preexec_fn=_limit_file_size(200_000))
    assert_refused(result, out / "static" / "besar.txt", "too large")
    assert tree_bytes(out) == before
    assert leftovers(out.parent) == []


def test_file_size_limit_while_rendering_is_a_message(project: Path, tmp_path: Path) -> None:
    """With a cold cache the limit is hit while rendering too (fonts, search index, card
    sheets): still a message and exit 1, never a traceback, and the previous site stays."""
    out = tmp_path / "out" / "site"
    before = built(project, out)
    change_sources(project)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cold-cache")}
    result = speechgen_build(project, out, env=env, preexec_fn=_limit_file_size(30_000))
    shown = result.stdout + result.stderr
    assert result.returncode == 1, shown
    assert "Traceback" not in shown, shown
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Gagal:") and "nothing was published" in lines[-1], shown
    assert ": " in lines[-2] and "too large" in lines[-2].lower(), shown       # `path: reason`
    assert tree_bytes(out) == before
    assert leftovers(out.parent) == []


def test_disk_full_is_a_message_and_keeps_the_previous_site(project: Path, tmp_path: Path) -> None:
    """A tiny tmpfs fills up during the build (ENOSPC)."""
    with tmpfs(tmp_path / "disk", "2m") as disk:
        out = disk / "site"
        before = built(project, out)
        free = os.statvfs(disk)
        free_bytes = free.f_bavail * free.f_frsize
        change_sources(project, big=free_bytes + 256 * 1024)
        result = speechgen_build(project, out)
        assert_refused(result, out / "static" / "besar.txt", "no space left")
        assert tree_bytes(out) == before
        assert leftovers(disk) == []
        after = os.statvfs(disk)
        assert after.f_bavail * after.f_frsize == free_bytes      # every block given back


def test_disk_full_while_indexing_for_search_is_a_message(project: Path, tmp_path: Path) -> None:
    """The disk fills up while Pagefind writes its index beside the output (the scratch folder)."""
    measure = tmp_path / "measure" / "site"
    built(project, measure)
    if not (measure / "pagefind").is_dir():
        pytest.skip("the pagefind package is not installed: no search index is made")
    pages = sum(-(-p.stat().st_size // 4096) for p in measure.rglob("*")
                if p.is_file() and not p.relative_to(measure).as_posix().startswith("pagefind/"))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cold-cache")}   # the index is made again
    with tmpfs(tmp_path / "disk", f"{(pages + 20) * 4}k") as disk:   # the pages fit, the index does not
        result = speechgen_build(project, disk / "site", env=env)
        assert_refused(result, disk, "no space left")
        assert os.listdir(disk) == []


def test_read_only_file_system_is_a_message(project: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        out = disk / "site"
        before = built(project, out)
        change_sources(project)
        remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        result = speechgen_build(project, out)
        assert_refused(result, disk, "read-only")
        assert tree_bytes(out) == before
        assert leftovers(disk) == []


# --- permissions ------------------------------------------------------------------------------------

def test_output_folder_in_a_folder_the_build_may_not_write(project: Path, tmp_path: Path, unprivileged) -> None:
    out = tmp_path / "locked" / "site"
    before = built(project, out)
    change_sources(project)
    out.parent.chmod(0o555)
    try:
        result = speechgen_build(project, out, preexec_fn=unprivileged)
    finally:
        out.parent.chmod(0o755)
    assert_refused(result, out.parent, "permission denied")
    assert tree_bytes(out) == before
    assert leftovers(out.parent) == []


def test_output_folder_that_cannot_be_created(project: Path, tmp_path: Path, unprivileged) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    out = locked / "new" / "site"
    try:
        result = speechgen_build(project, out, preexec_fn=unprivileged)
    finally:
        locked.chmod(0o755)
    assert_refused(result, locked / "new", "permission denied")
    assert os.listdir(locked) == []


def test_read_only_output_folder_is_refused_before_anything_is_replaced(
        project: Path, tmp_path: Path, unprivileged) -> None:
    """`chmod -R a-w site`: a build that changes nothing leaves it as it is and succeeds; one
    that changes something cannot remove the previous site, so nothing is replaced and nothing of
    it is deleted (not even the parts that could be), where a swap would have left it half
    removed beside the new site."""
    out = tmp_path / "out" / "site"
    before = built(project, out)
    subprocess.run(["chmod", "-R", "a-w", str(out)], check=True)
    try:
        unchanged = speechgen_build(project, out, preexec_fn=unprivileged)
        assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
        assert tree_bytes(out) == before and leftovers(out.parent) == []
        change_sources(project)
        result = speechgen_build(project, out, preexec_fn=unprivileged)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(out)], check=True)
    assert_refused(result, out, "permission denied")
    assert tree_bytes(out) == before
    assert leftovers(out.parent) == []


def test_output_that_cannot_be_swapped_at_the_end(project: Path, tmp_path: Path, unprivileged) -> None:
    """Another user's output in a shared sticky folder (like /tmp): every file is written, then
    the swap is refused (EPERM). The message names the output, nothing is left behind."""
    if unprivileged is None:
        pytest.skip("needs root to give the output to another user")
    shared = tmp_path / "shared"
    shared.mkdir()
    out = shared / "site"
    built(project, out)
    for path in [out, *out.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        if path.is_dir():
            path.chmod(0o777)                      # its contents could be replaced; it cannot
    os.chown(shared, NOBODY, NOBODY)
    shared.chmod(0o1777)
    before = tree_bytes(out)
    change_sources(project)
    result = speechgen_build(project, out, preexec_fn=unprivileged)
    assert_refused(result, out, "not permitted")
    assert tree_bytes(out) == before
    assert leftovers(shared) == []


def test_cache_and_home_that_cannot_be_written_still_build(project: Path, tmp_path: Path, unprivileged) -> None:
    """The cache only costs speed: a build whose cache, key and home folders are read-only
    still publishes the same site."""
    env = dict(os.environ)
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir(mode=0o555)
        env[name] = str(folder)
    out = tmp_path / "out" / "site"
    result = speechgen_build(project, out, env=env, preexec_fn=unprivileged)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(not any((tmp_path / n).iterdir()) for n in ("home", "xdg_cache_home", "xdg_state_home"))
    clean = tmp_path / "clean" / "site"
    built(project, clean)
    assert site_files(out) == site_files(clean)
    assert leftovers(out.parent) == []


def test_output_that_is_a_symbolic_link_is_refused(project: Path, tmp_path: Path) -> None:
    real = tmp_path / "real" / "site"
    before = built(project, real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    change_sources(project)
    result = speechgen_build(project, link)
    assert_refused(result, link, "symbolic link")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert tree_bytes(real) == before
    assert leftovers(tmp_path, real.parent) == []
