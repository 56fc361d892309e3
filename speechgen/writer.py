"""The only stage that touches the output folder, and atomically.

The whole build is written into a temporary folder beside the output, then swapped in with one
rename. A build that fails at any point leaves the previous output exactly as it was; leftovers of
an interrupted build are removed on the next run.
"""

from __future__ import annotations

import ctypes
import hashlib
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from speechgen.errors import OutputError
from speechgen.model import Artifact

MARKER = ".speechgen-output"   # a folder holding this file is a speechgen output we may replace
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class WriteReport:
    out: Path
    files: int
    bytes: int
    unchanged: bool = False      # the output already held exactly these files


def check_output_dir(out: Path, project: Path) -> None:
    """Refuse any output folder whose replacement could destroy something that is not ours."""
    out, project = out.resolve(), project.resolve()
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
    if out.is_symlink() or (out.exists() and not out.is_dir()):
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
    """Remove the temporary folders an interrupted build left beside the output."""
    if not out.parent.is_dir():
        return
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def digest(artifacts: Sequence[Artifact]) -> str:
    """One SHA-256 over every output path and its bytes."""
    total = hashlib.sha256()
    for artifact in sorted(artifacts, key=lambda a: a.dest):
        total.update(artifact.dest.encode("utf-8") + b"\0" + hashlib.sha256(artifact.data).digest())
    return total.hexdigest()


def _unchanged(artifacts: Sequence[Artifact], out: Path, wanted: str) -> bool:
    """The output already holds exactly these files: the same digest recorded by the build that
    wrote it, and every file still there at its size (a cheap stat each)."""
    try:
        if f"digest: {wanted}" not in (out / MARKER).read_text(encoding="utf-8").splitlines():
            return False
        return all((out / a.dest).stat().st_size == len(a.data) for a in artifacts)
    except OSError:
        return False


def write_site(artifacts: Iterable[Artifact], out: Path, project: Path) -> WriteReport:
    out = out.absolute()
    check_output_dir(out, project)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out)
    wanted = digest(artifacts) if isinstance(artifacts, (list, tuple)) else None
    if wanted and _unchanged(artifacts, out, wanted):
        # A rebuild that changed nothing leaves the site untouched: no rewrite, no swap.
        return WriteReport(out, len(artifacts), sum(len(a.data) for a in artifacts), unchanged=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    files = size = 0
    try:
        for artifact in artifacts:
            target = tmp.joinpath(*safe_dest(artifact.dest).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as handle:     # "x": two artifacts never share one path
                handle.write(artifact.data)
            files += 1
            size += len(artifact.data)
        (tmp / MARKER).write_text("This folder is made by speechgen build and replaced whole on "
                                  "every build.\n" + (f"digest: {wanted}\n" if wanted else ""),
                                  encoding="utf-8")
        os.chmod(tmp, 0o755)
        _swap_in(tmp, out)
    except FileExistsError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"two outputs claim one path: {exc.filename}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return WriteReport(out, files, size)


def _swap_in(new: Path, out: Path) -> None:
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):          # one atomic step: readers never see a missing site
        shutil.rmtree(new)           # `new` now holds the previous output
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    os.rename(out, old / "old")
    os.rename(new, out)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE); False where the system does not offer it."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
