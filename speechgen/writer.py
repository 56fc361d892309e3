"""The only stage that touches the output folder, and atomically.

The whole build is streamed into a temporary folder beside the output, then swapped in with one
rename. A build that fails at any point leaves the previous output exactly as it was; leftovers of
an interrupted build are removed on the next run. Two builds into one output take turns (a lock
on the output's parent folder). Every failure of the disk is `path: reason`, never a traceback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from speechgen.errors import OutputError
from speechgen.model import Artifact

MARKER = ".speechgen-output"   # a folder holding this file is a speechgen output we may replace
FOLDERS_AHEAD = 256             # from this many folders in the previous output, a helper makes them
# The helper: makes the folders named on its standard input (NUL-separated, parents first) and
# stops at the first it cannot make (the build's folder gone).
_MAKE_FOLDERS = ("import os, sys\n"
                 "for name in sys.stdin.buffer.read().split(b'\\0'):\n"
                 "    try:\n"
                 "        os.mkdir(name)\n"
                 "    except FileExistsError:\n"
                 "        pass\n")
_RENAME_EXCHANGE = 2
# From this many files in the replaced output, it is removed by a detached helper after the swap:
# thousands of unlinks and rmdirs were a seventh of an edit's build, and the build is done once
# the new output is in place. A helper stopped midway leaves a `.site.tmp-*` folder, removed by the
# next build (`clean_leftovers`).
REMOVE_DETACHED = 1000
_REMOVE = "import shutil, sys\nshutil.rmtree(sys.argv[1], ignore_errors=True)\n"


@dataclass(frozen=True)
class WriteReport:
    out: Path
    files: int
    bytes: int
    unchanged: bool = False      # the output already held exactly these files


def check_output_dir(out: Path, project: Path) -> None:
    """Refuse any output folder whose replacement could destroy something that is not ours."""
    if out.is_symlink():
        raise OutputError(f"{out}: is a symbolic link; give the real folder as --out "
                          "(the swap would replace the link, not the folder it points to)")
    out, project = out.resolve(), project.resolve()
    try:
        str(out).encode("utf-8")
    except UnicodeEncodeError:         # the search indexer and the pages' messages name it
        shown = os.fsencode(str(out)).decode("utf-8", "backslashreplace")
        raise OutputError(f"{shown}: the output folder's path is not UTF-8; choose another --out") from None
    home = Path.home().resolve()
    if out == Path(out.anchor):
        raise OutputError(f"{out}: refusing to write the site to the root of the file system")
    if out == home:
        raise OutputError(f"{out}: refusing to replace your home folder with the site")
    if project.is_relative_to(out):
        raise OutputError(f"{out}: refusing to write the site over the project folder or a folder "
                          "that contains it; use --out site")
    for source in ("speeches", "templates", "static"):
        if out.is_relative_to(project / source):
            raise OutputError(f"{out}: refusing to write the site inside the project's {source}/")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(f"{out}: folder is not empty and was not made by speechgen "
                          f"(no {MARKER} in it); refusing to replace it. Choose another --out "
                          "or empty the folder.")


def safe_dest(dest: str) -> PurePosixPath:
    """An artifact path must be relative, plain and inside the output: no '..', no absolute path."""
    path = PurePosixPath(dest)
    if (not dest or "\\" in dest or "\x00" in dest or path.is_absolute()
            or any(part in ("", ".", "..") for part in dest.split("/"))):
        raise OutputError(f"refusing to write {dest!r}: outside the output folder or not a plain path")
    return path


def clean_leftovers(out: Path) -> None:
    """Remove the temporary folders an interrupted build left beside the output. Called only
    under the output's lock, so no live build's folder is among them."""
    if not out.parent.is_dir():
        return
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def reason_of(exc: OSError) -> str:
    """What went wrong, in words a user can act on."""
    reasons = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
               errno.EPERM: "operation not permitted",
               errno.EFBIG: "file too large (over the file system's or this process's size limit)"}
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


@contextlib.contextmanager
def _mapped(what: Path, shown: Callable[[str], str] = str) -> Iterator[None]:
    """An OSError of the writer's own becomes `path: reason` for the user: the file it names as
    the user will see it (`shown`), or `what` when it names none (a failed write) or only a name
    relative to some folder (shutil.rmtree)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        name = exc.filename if isinstance(exc.filename, str) and os.path.isabs(exc.filename) else None
        where = shown(name) if name else str(what)
        raise OutputError(f"{where}: cannot write the site: {reason_of(exc)}") from None


def _check_replaceable(out: Path) -> None:
    """The previous output is removed once the new one is in; a folder of it that is not
    writable would leave it half-removed beside the new site. Refuse before anything is touched."""
    if not out.is_dir():
        return
    for folder, _, _ in os.walk(out):
        if not os.access(folder, os.W_OK | os.X_OK):
            reason = ("the file system is read-only" if os.statvfs(folder).f_flag & os.ST_RDONLY
                      else "permission denied (this folder is not writable, so its files could "
                      "not be removed)")
            raise OutputError(f"{folder}: cannot replace the previous site: {reason}")


def lock_output(out: Path, *, exclusive: bool, wait: Callable[[], None]) -> int:
    """Lock the output for a build (exclusive) or a reader such as publish (shared), on the
    output's parent folder, which a swap never replaces; `wait()` is called before blocking.
    Returns the descriptor: closing it releases the lock."""
    return _lock_folder(out.parent, exclusive=exclusive, wait=wait)


def lock_project(project: Path, *, exclusive: bool, wait: Callable[[], None]) -> int:
    """Lock a project for `speechgen release` (exclusive; shared for a dry run): the very lock a
    build into the project's own `site/` takes (`lock_output(project / "site")`), so a release
    and such a build, or two releases, take turns. Returns the descriptor: closing it releases
    the lock, and so does the process's end, however it ends."""
    return _lock_folder(project, exclusive=exclusive, wait=wait)


def _lock_folder(folder: Path, *, exclusive: bool, wait: Callable[[], None]) -> int:
    fd = os.open(folder, os.O_RDONLY)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            wait()
            fcntl.flock(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


class SiteWriter:
    """Streams one build's files into a temporary folder beside the output, then swaps it in.

    Used as a context manager: the output's parent folder is locked for the whole build (a second
    build into it waits), and unless `commit()` ran, the temporary folder is removed on the way
    out, so a failed build leaves the previous output exactly as it was. Files are written one at
    a time as they are made, or copied file to file; a file the previous output already holds with
    the same SHA-256 is hard-linked from it instead of being written again.
    """

    def __init__(self, out: Path, project: Path, *, wait: Callable[[str], None] = lambda message: None,
                 stamps: dict[str, int] | None = None) -> None:
        """`stamps`: the modification times (ns) the last commit into `out` left, kept by the
        caller; a previous file still at its stamp is trusted without reading it again."""
        self.out = out.absolute()
        self.stamps = dict(stamps or {})
        self.project = project
        self.wait = wait
        self.files: dict[str, tuple[str, int]] = {}        # dest -> (sha256, size)
        self._claimed: set[str] = set()                     # dests, lower-cased
        self._kept: set[str] = set()        # dests the previous output holds as they are: linked at commit
        self.tmp: Path | None = None
        self._lock: int | None = None
        self._previous: dict[str, tuple[str, int]] = {}
        self._previous_digest = ""
        self._ahead: subprocess.Popen | None = None          # the helper making folders ahead
        self._ahead_folders: set[str] = set()
        self.committed: WriteReport | None = None
        # Read while written (the preview serves `tmp` before the swap): each file is written under
        # a hidden name and renamed into place whole, so a reader never meets it half-written.
        self.served = False

    def __enter__(self) -> "SiteWriter":
        check_output_dir(self.out, self.project)
        with _mapped(self.out.parent, self._shown):
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self._lock = lock_output(self.out, exclusive=True, wait=lambda: self.wait(
                f"{self.out}: another build is writing here; waiting for it to finish "
                "(build lain sedang menulis; menunggu)"))
            try:
                check_output_dir(self.out, self.project)      # the other build may have changed it
                clean_leftovers(self.out)
                self._previous, self._previous_digest = read_marker(self.out)
                self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=self.out.parent))
                self._folders_ahead()
            except BaseException:
                self.__exit__(None, None, None)
                raise
        return self

    def _folders_ahead(self) -> None:
        """Start making the previous output's folders in the new tree, in a process of its own: a
        build mostly keeps them, and thousands of folders, each a system call, were most of an
        edit's commit. Only a head start: the writer makes every folder it needs itself, and
        removes at commit those the new output does not hold."""
        folders = _folders_of(dest for dest in self._previous if _plain_dest(dest))
        assert self.tmp is not None
        if len(folders) < FOLDERS_AHEAD or (self.tmp.parent / self.tmp.name.swapcase()).exists():
            return         # few folders, or a file system blind to case (a folder made ahead as "A"
            #                would hold the build's "a/index.html" under the old name)
        tmp = os.fsencode(self.tmp)
        with tempfile.TemporaryFile() as names:
            names.write(b"\0".join(os.path.join(tmp, os.fsencode(f)) for f in sorted(folders)))
            names.seek(0)
            try:
                self._ahead = subprocess.Popen([sys.executable, "-I", "-S", "-c", _MAKE_FOLDERS], stdin=names,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError:
                return
        self._ahead_folders = folders

    def _folders_done(self, *, stop: bool = False) -> None:
        """Wait for the helper (stopped first if the build ends without a commit)."""
        if self._ahead is None:
            return
        if stop:
            self._ahead.kill()
        self._ahead.wait()
        self._ahead = None

    def _drop_unneeded_folders(self) -> None:
        """Remove the folders made ahead that no file of this build is in."""
        self._remove_ahead(self._ahead_folders - _folders_of(self.files))

    def _remove_ahead(self, folders: Iterable[str]) -> None:
        """Remove these folders made ahead (empty ones: children first), and forget them."""
        assert self.tmp is not None
        gone = sorted(folders, reverse=True)
        for folder in gone:
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(self.tmp / folder)
        self._ahead_folders.difference_update(gone)

    def __exit__(self, kind, value, traceback) -> None:
        self._folders_done(stop=True)
        if self.tmp is not None and self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()

    def _shown(self, name: str) -> str:
        """A path as the user knows it: a file in the temporary folder as the output's file, the
        temporary folder itself as the folder it was made in."""
        path = Path(name)
        if self.tmp is not None and path.is_relative_to(self.tmp):
            return str(self.out / path.relative_to(self.tmp))
        if path.parent == self.out.parent and path.name.startswith(f".{self.out.name}.tmp-"):
            return str(self.out.parent)
        return name

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)            # closing the descriptor releases the lock
            self._lock = None

    def _target(self, dest: str) -> Path:
        assert self.tmp is not None, "SiteWriter used outside its with block"
        path = safe_dest(dest)
        if dest.lower() in self._claimed:
            raise OutputError(f"two outputs claim one path: {dest}")
        self._claimed.add(dest.lower())
        target = self.tmp.joinpath(*path.parts)
        if dest in self._ahead_folders:       # a folder of the previous output is a file now
            self._folders_done()
            inside = dest + "/"
            self._remove_ahead([f for f in self._ahead_folders if f == dest or f.startswith(inside)])
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, dest: str, data: bytes) -> str:
        """Write one file; returns its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        if self.reuse(dest, sha):
            return sha
        with _mapped(self.out / dest, self._shown):
            target = self._target(dest)
            with self._whole(target) as part, open(part, "xb") as handle:   # "x": one path, one output
                handle.write(data)
        self.files[dest] = (sha, len(data))
        return sha

    @contextlib.contextmanager
    def _whole(self, target: Path) -> Iterator[Path]:
        """Where to write `target`: itself, or (`served`) a hidden name beside it, renamed to it
        once written; a failure leaves neither."""
        if not self.served:
            yield target
            return
        if target.exists():                   # as "x" would: two outputs never share one path
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
        part = target.with_name(f".{target.name}.part")
        try:
            yield part
            os.rename(part, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
            raise

    def copy(self, dest: str, source: Path) -> str:
        """Copy a file as it is, block by block (a large static file is never held in memory)."""
        digest = hashlib.sha256()
        try:
            src = open(source, "rb")
        except OSError as exc:
            raise OutputError(f"{source}: cannot read it: {reason_of(exc)}") from None
        with src, _mapped(self.out / dest, self._shown):
            target = self._target(dest)
            size = 0
            with self._whole(target) as part, open(part, "xb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    digest.update(block)
                    dst.write(block)
                    size += len(block)
        sha = digest.hexdigest()
        self.files[dest] = (sha, size)
        return sha

    def adopt(self, dest: str, path: Path) -> str:
        """Take a file a tool made in a scratch folder beside the output: kept from the previous
        output when that holds the same bytes, else moved in (a rename, not a copy). Returns its
        SHA-256."""
        sha = sha256_file(path)
        if self.reuse(dest, sha):
            return sha
        size = path.stat().st_size
        with _mapped(self.out / dest, self._shown):
            target = self._target(dest)
            try:
                os.rename(path, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copyfile(path, target)
        self.files[dest] = (sha, size)
        return sha

    def has(self, dest: str, sha: str) -> bool:
        """The previous output holds this file with these bytes: at its size and stamp, or,
        without a stamp, read again and hashed (a file edited by hand is never reused)."""
        known = self._previous.get(dest)
        if known is None or known[0] != sha:
            return False
        path = self.out / dest
        try:
            stat = path.stat()
            if stat.st_size != known[1]:
                return False
            if self.stamps.get(dest) == stat.st_mtime_ns:
                return True
            return sha256_file(path) == sha
        except OSError:
            return False

    def reuse(self, dest: str, sha: str) -> bool:
        """Keep a file of the previous output that already has these bytes; False if it is not
        there as it was. Nothing is touched now: kept files are linked in at commit, and a build
        that keeps every file leaves the output as it is without writing anything."""
        if not self.has(dest, sha):
            return False
        safe_dest(dest)
        if dest.lower() in self._claimed:
            raise OutputError(f"two outputs claim one path: {dest}")
        self._claimed.add(dest.lower())
        self._kept.add(dest)
        self.files[dest] = (sha, self._previous[dest][1])
        return True

    def path_of(self, dest: str) -> Path:
        """Where a file of this build can be read now: the previous output's copy if kept."""
        assert self.tmp is not None
        return self.out / dest if dest in self._kept else self.tmp / dest

    def _link_kept(self) -> None:
        """Hard-link the kept files in (a copy where links are not allowed)."""
        assert self.tmp is not None
        tmp, out = os.fspath(self.tmp), os.fspath(self.out)
        made = set()               # folders known to exist (thousands of files share a few hundred)
        for dest in sorted(self._kept):
            target = os.path.join(tmp, dest)
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            try:
                os.link(os.path.join(out, dest), target)
            except OSError:
                shutil.copyfile(os.path.join(out, dest), target)

    def commit(self) -> WriteReport:
        """Record what was written and swap it in; an output already holding exactly these
        files is left untouched (no swap)."""
        assert self.tmp is not None
        digest = site_digest(self.files)
        total = sum(size for _, size in self.files.values())
        if digest == self._previous_digest and self._kept == set(self.files):
            self.committed = WriteReport(self.out, len(self.files), total, unchanged=True)
            return self.committed
        lines = ["This folder is made by speechgen build and replaced whole on every build.",
                 f"digest: {digest}"]
        lines += [f"{sha} {size} {dest}" for dest, (sha, size) in sorted(self.files.items())]
        with _mapped(self.out, self._shown):
            self._folders_done()
            self._link_kept()
            self._drop_unneeded_folders()
            tmp = os.fspath(self.tmp)
            self.stamps = {dest: os.stat(os.path.join(tmp, dest)).st_mtime_ns for dest in self.files}
            (self.tmp / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")
            os.chmod(self.tmp, 0o755)
            _check_replaceable(self.out)
            replaced = _swap_in(self.tmp, self.out)
        self.tmp = None                        # it is the new output now, or holds the old one
        if replaced is not None:
            _remove(replaced, detached=len(self._previous) >= REMOVE_DETACHED)
        self.committed = WriteReport(self.out, len(self.files), total)
        return self.committed


def _folders_of(dests: Iterable[str]) -> set[str]:
    """Every folder the given output paths are in, their parents included."""
    folders: set[str] = set()
    for dest in dests:
        folder = dest.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def _plain_dest(dest: str) -> bool:
    """A path of ours (`safe_dest`); the previous output's record may have been edited."""
    try:
        safe_dest(dest)
    except OutputError:
        return False
    return True


def site_digest(files: dict[str, tuple[str, int]]) -> str:
    """One SHA-256 over every output path and its bytes' SHA-256."""
    total = hashlib.sha256()
    for dest, (sha, _) in sorted(files.items()):
        total.update(dest.encode("utf-8") + b"\0" + bytes.fromhex(sha))
    return total.hexdigest()


def sha256_file(path: Path) -> str:
    """A file's SHA-256, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_marker(out: Path) -> tuple[dict[str, tuple[str, int]], str]:
    """The previous output's files as its build recorded them: dest -> (sha256, size)."""
    try:
        text = (out / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}, ""
    files: dict[str, tuple[str, int]] = {}
    digest = ""
    for line in text.splitlines():
        if line.startswith("digest: "):
            digest = line[8:] if len(line) == 72 and all(c in "0123456789abcdef" for c in line[8:]) else ""
            continue
        parts = line.split(" ", 2)
        if len(parts) == 3 and len(parts[0]) == 64 and parts[1].isdigit():
            files[parts[2]] = (parts[0], int(parts[1]))
    return files, digest


def write_site(artifacts: Iterable[Artifact], out: Path, project: Path) -> WriteReport:
    """Every artifact, written and swapped in (a convenience over SiteWriter)."""
    with SiteWriter(out, project) as writer:
        for artifact in artifacts:
            writer.write(artifact.dest, artifact.data)
        return writer.commit()


def _swap_in(new: Path, out: Path) -> Path | None:
    """Put `new` where `out` is, and return the folder beside it now holding the previous output
    (None if there was none), for the caller to remove. On failure `out` is as it was and
    nothing is left beside it."""
    if not out.exists():
        os.rename(new, out)
        return None
    if _exchange(new, out):          # one atomic step: readers never see a missing site
        return new                   # `new` now holds the previous output
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        os.rename(out, old / "old")
    except BaseException:
        old.rmdir()
        raise
    try:
        os.rename(new, out)
    except BaseException:
        try:
            os.rename(old / "old", out)          # put the previous output back
        except OSError as exc:
            raise OutputError(f"{out}: the new site could not be moved in and the previous one "
                              f"could not be put back ({reason_of(exc)}); it is in {old / 'old'}") from None
        old.rmdir()
        raise
    return old


def _remove(folder: Path, *, detached: bool) -> None:
    """Remove a replaced output. The new site is published: a file of the old one that cannot be
    removed is left for the next build to clean, not reported as a failure."""
    if detached:
        try:
            subprocess.Popen([sys.executable, "-I", "-S", "-c", _REMOVE, os.fspath(folder)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            return
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE); False where the system or file system does not offer
    it. Any other failure (permissions, a read-only file system) is raised: the fallback would
    only fail the same way, later."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))
