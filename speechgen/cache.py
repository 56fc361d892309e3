"""The build's cache: authenticated entries in the user's cache folder, never in the project.

Only `memo.py` reads and writes it (the build opens it). An entry is accepted only if it carries
an HMAC made with this machine's cache key (or the CI's, below), which lives outside the cache (in
the user's state folder, mode 0600): an entry
committed with the sources, restored from a shared CI cache or edited by hand is a miss, never
input. Entries are written atomically; a torn or foreign entry is a miss, never an error. A cache
opened read-only (`speechgen check`) writes nothing anywhere.

Where: `$SPEECHGEN_CACHE_DIR` if set, else `$XDG_CACHE_HOME/speechgen` (`~/.cache/speechgen`), one
folder per project (by the project's real path). The key: `$XDG_STATE_HOME/speechgen/cache.key`
(`~/.local/state/speechgen/cache.key`).

A CI (or any set of machines that share a cache folder) sets `SPEECHGEN_CACHE_KEY` instead: a
secret of at least 32 characters, which authenticates the entries in place of the machine's key.
The folder is then named by the key, not by the project's path (`key-<16 hex>`), since every
checkout may be at another path: a cache saved by one runner is valid on the next with the same
key, and all misses without it or with another. Entries are keyed by what they are made from,
relative to the project (never its absolute path), so a fresh checkout finds them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import os
import re
import secrets
import stat
import tempfile
from pathlib import Path

from speechgen import __version__
from speechgen.errors import SpeechgenError

_MAGIC = b"speechgen-cache 2\n"
_MAC_BYTES = 32
MAX_ENTRY_BYTES = 1 << 30        # larger than any output speechgen keeps (a book, a card sheet)
_KEY_BYTES = 32


def read_regular(path: str | Path, limit: int) -> bytes | None:
    """A regular file's bytes, at most `limit` of them; None for anything else. Never follows a
    link, never waits on a FIFO or device, never reads past `limit`: a cache folder or key file
    that someone else can write must not hang, fill or feed the build."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


@functools.cache
def code_digest() -> str:
    """The SHA-256 of speechgen's own code and theme, so a changed renderer never serves an old
    entry, even between two builds of one version number."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".xml", ".txt", ".css", ".js"):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(kind: str, *parts: bytes | str) -> str:
    """The SHA-256 of the parts, each length-prefixed so ('ab', 'c') and ('a', 'bc') differ."""
    digest = hashlib.sha256()
    for part in (code_digest(), kind, *parts):
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part   # a path may not be UTF-8
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


KEY_ENV = "SPEECHGEN_CACHE_KEY"
KEY_MIN_CHARS = 32


class CacheKeyError(SpeechgenError):
    """SPEECHGEN_CACHE_KEY is set but is no usable key."""


def shared_key() -> bytes | None:
    """The key `SPEECHGEN_CACHE_KEY` gives (a CI's secret), or None when it is not set. Its value,
    without the blanks around it (a secret pasted with its newline), must be at least
    `KEY_MIN_CHARS` characters: a short one is guessable, and an error, never a weaker cache."""
    value = os.environ.get(KEY_ENV)
    if value is None:
        return None
    value = value.strip()
    if len(value) < KEY_MIN_CHARS or not value.isprintable():
        raise CacheKeyError(
            f"{KEY_ENV}: kunci cache harus berupa minimal {KEY_MIN_CHARS} karakter yang dapat dicetak / "
            f"the cache key must be at least {KEY_MIN_CHARS} printable characters (it has {len(value)}); "
            "make one with `openssl rand -hex 32` and keep it as a secret")
    return hashlib.sha256(b"speechgen-cache-key\0" + value.encode("utf-8", "surrogatepass")).digest()


def default_folder(project: Path) -> Path:
    base = os.environ.get("SPEECHGEN_CACHE_DIR")
    if not base:
        base = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "speechgen")
    shared = shared_key()
    if shared is not None:              # one folder per key: a CI checkout may be anywhere
        return Path(base) / f"key-{hashlib.sha256(b'folder' + shared).hexdigest()[:16]}"
    name = hashlib.sha256(os.fsencode(project.resolve())).hexdigest()[:16]     # any file name
    return Path(base) / f"{project.resolve().name[:40]}-{name}"


def key_path() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "speechgen"
    return state / "cache.key"


def machine_key(create: bool) -> bytes | None:
    """This machine's secret for the cache's HMACs; made on first use (unless read-only). A key
    file that is not a regular file of 32 bytes (a link, a FIFO, a device, a torn write) is
    replaced when the cache may be written, and is no key otherwise; a folder in its place
    leaves the build without a cache (`Cache.warning` says so)."""
    path = key_path()
    state = path.parent
    data = read_regular(path, _KEY_BYTES)
    if data is not None and len(data) == _KEY_BYTES:
        return data
    if not create:
        return None
    if os.path.lexists(path) and not os.path.isdir(path) or os.path.islink(path):
        try:
            os.unlink(path)            # not a key: a new one takes its place
        except OSError:
            return None
    try:
        state.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=state, prefix=".key-")
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        os.chmod(tmp, 0o600)
        os.link(tmp, path)             # the first of two racing builds wins; both read its key
        os.unlink(tmp)
    except FileExistsError:
        os.unlink(tmp)
    except OSError:
        return None                    # no writable home: build without a cache
    return machine_key(create=False)


def _key_warning(folder: Path | None) -> str:
    """What a user should know when a cache was wanted and no key could be had."""
    if folder is None:
        return ""
    path = key_path()
    if os.path.isdir(path) and not os.path.islink(path):
        return (f"{path}: bukan berkas kunci / not a key file but a folder; the build runs without its "
                "cache (remove the folder to build faster)")
    return ""


_ENTRY = re.compile(r"[0-9a-f]{64}")
_SERIAL = itertools.count()


class Cache:
    """Bytes by (kind, key), one file each: `<folder>/<kind>/<key[:2]>/<key>`, each authenticated
    with `SPEECHGEN_CACHE_KEY`'s key when it is set, else this machine's.

    `Cache.disabled()` hits nothing and keeps nothing; `writable=False` reads only.
    """

    def __init__(self, folder: Path | None, *, writable: bool = True) -> None:
        self.folder = folder
        self.writable = writable and folder is not None
        shared = shared_key() if folder is not None else None
        self._key = shared or (machine_key(create=self.writable) if folder is not None else None)
        # a key several machines share (a CI's): the cache may be restored without the output, so
        # what a build otherwise keeps only in the output (the search index) is kept here too
        self.shared = shared is not None and self._key is not None
        self.warning = ""
        self._made: set[str] = set()     # entry folders this process made or found
        if self._key is None:
            self.warning = _key_warning(folder)
            self.folder, self.writable = None, False

    @classmethod
    def for_project(cls, project: Path, *, writable: bool = True) -> "Cache":
        return cls(default_folder(project), writable=writable)

    @classmethod
    def disabled(cls) -> "Cache":
        return cls(None, writable=False)

    def _path(self, kind: str, entry: str) -> str:
        if not _ENTRY.fullmatch(entry) or not kind.isalpha():
            raise ValueError(f"not a cache key: {kind}/{entry!r}")
        assert self.folder is not None
        return os.path.join(self.folder, kind, entry[:2], entry)     # asked thousands of times a build

    def _mac(self, kind: str, entry: str, data: bytes) -> bytes:
        assert self._key is not None
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        mac.update(f"{kind}/{entry}\n".encode())
        mac.update(data)
        return mac.digest()

    def get(self, kind: str, entry: str) -> bytes | None:
        if self.folder is None:
            return None
        raw = read_regular(self._path(kind, entry), MAX_ENTRY_BYTES + len(_MAGIC) + _MAC_BYTES)
        head = len(_MAGIC) + _MAC_BYTES
        if raw is None or not raw.startswith(_MAGIC) or len(raw) < head:
            return None
        mac, data = raw[len(_MAGIC):head], raw[head:]
        if not hmac.compare_digest(mac, self._mac(kind, entry, data)):
            return None          # torn, forged or from another machine: render again
        return data

    def has(self, kind: str, entry: str) -> bool:
        """An entry is there (not checked: `get` still may find it torn or forged)."""
        if self.folder is None:
            return False
        try:
            return stat.S_ISREG(os.lstat(self._path(kind, entry)).st_mode)
        except OSError:
            return False

    def put(self, kind: str, entry: str, data: bytes) -> None:
        """Store atomically; a cache that cannot be written only costs speed, never the build."""
        if not self.writable:
            return
        path = self._path(kind, entry)
        folder = os.path.dirname(path)
        try:
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            # a name no other process or thread uses (`.`: never read as an entry); tempfile's
            # random names cost three times as much, and a cold build keeps thousands of entries
            tmp = f"{folder}/.tmp-{os.getpid()}-{next(_SERIAL)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_MAGIC + self._mac(kind, entry, data) + data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            self._made.discard(folder)       # removed under the build, say: made again next time

    def count(self, kind: str) -> int:
        """Entries of a kind (tests use it to count renders)."""
        if self.folder is None:
            return 0
        return sum(1 for p in (self.folder / kind).rglob("*") if p.is_file() and not p.name.startswith("."))
