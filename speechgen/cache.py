"""A small content-addressed cache under `PROJECT/.speechgen-cache/`.

An entry's key is the SHA-256 of everything that made it (sources, templates, fonts, config and
the speechgen version), so a key never goes stale: a changed input is a different key. Entries are
written atomically and carry their own checksum; a torn or corrupt entry is a miss, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

from speechgen import __version__

CACHE_DIR = ".speechgen-cache"
_MAGIC = b"speechgen-cache 1\n"


@functools.cache
def code_digest() -> str:
    """The SHA-256 of speechgen's own code, so a changed renderer never serves an old entry,
    even between two builds of one version number."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(kind: str, *parts: bytes | str) -> str:
    """The SHA-256 of the parts, each length-prefixed so ('ab', 'c') and ('a', 'bc') differ."""
    digest = hashlib.sha256()
    for part in (f"speechgen {__version__}", code_digest(), kind, *parts):
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class Cache:
    """Bytes by key, one file each: `<root>/<kind>/<key[:2]>/<key>`."""

    def __init__(self, root: Path, kind: str) -> None:
        self.folder = root / CACHE_DIR / kind

    def _path(self, entry: str) -> Path:
        if len(entry) != 64 or not all(c in "0123456789abcdef" for c in entry):
            raise ValueError(f"not a cache key: {entry!r}")
        return self.folder / entry[:2] / entry

    def get(self, entry: str) -> bytes | None:
        try:
            raw = self._path(entry).read_bytes()
        except OSError:
            return None
        body = raw[len(_MAGIC):]
        if not raw.startswith(_MAGIC) or len(body) < 65 or body[64:65] != b"\n":
            return None
        checksum, data = body[:64], body[65:]
        if hashlib.sha256(data).hexdigest().encode() != checksum:
            return None          # torn or tampered entry: render again
        return data

    def put(self, entry: str, data: bytes) -> None:
        """Store atomically; a cache that cannot be written only costs speed, never the build."""
        path = self._path(entry)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_MAGIC + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass
