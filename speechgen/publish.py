"""`speechgen publish`: the built site to an S3-compatible bucket, only what changed, in an order
that never shows a reader half a site.

What is published is the built site folder and nothing else: the files its build recorded in
`.speechgen-output` (that record itself stays home), each a regular file inside the folder. The
bucket is compared by SHA-256: every object speechgen uploads carries its SHA-256 (and a tag of
the headers it was sent with) as user metadata, `x-amz-meta-sha256`. A listing gives the objects
with their sizes, ETags and times; the SHA-256 of an object of the same size comes from a HEAD,
or, without one, from the record the last run left under the prefix (`.speechgen-published`:
per object the ETag, size and time it had, and its SHA-256), when the object still has exactly
that ETag, size and time, i.e. was not written since. The record only saves requests: an entry
whose object was written since is not used, and without a record every object is asked again.
Only new and changed files go up.

Order (each phase finishes before the next starts, so a failure stops between or inside one):

  1. assets: PDFs, images, styles, fonts, static files, the search index's content-addressed files
  2. pages (HTML) that are not listings
  3. listings: the home page, archives, feeds, sitemap, robots.txt, checksums
  4. the search code (pagefind.js, its worker and WebAssembly)
  5. the search entries (each bundle's pagefind-entry.json, and pagefind/recent.json)
  6. manifest.json
  7. only with --delete, and only after all of that: objects under the prefix the site no longer has
  8. the record of what the bucket now holds

So a run that stops midway leaves every page in the bucket pointing at files that exist (nothing
old is deleted before the end, and no page goes up before its files), and the next run uploads
what is still missing. Credentials come from the standard AWS chain (environment, config files,
instance roles); speechgen never reads or stores one itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import posixpath
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from speechgen import __version__
from speechgen.errors import OutputError, SpeechgenError
from speechgen.graph import (ARCHIVE_FOLDERS, CHECKSUMS, FEEDS, HOME, MANIFEST, ROBOTS,
                             SEARCH_BUNDLE, SEARCH_RECENT_LIST, SITEMAP)
from speechgen.writer import MARKER, lock_output, read_marker, safe_dest, sha256_file

SHORT = "public, max-age=300"                       # pages, feeds, manifest, anything that may change
IMMUTABLE = "public, max-age=31536000, immutable"   # content-addressed: the name changes with the bytes
RECORD = ".speechgen-published"                     # under the prefix: what the last run saw, by ETag
RECORD_FORMAT = "speechgen-published 1"
SHA_KEY = "sha256"                                  # x-amz-meta-sha256
HEADERS_KEY = "speechgen-headers"                   # x-amz-meta-speechgen-headers
JOBS = 8                                            # uploads (and HEADs) in flight at once
LARGE = 64 * 1024 * 1024                            # bigger files go up in parts, streamed from disk

# Pagefind's index files carry a hash of their content in their name.
CONTENT_ADDRESSED = (".pf_meta", ".pf_index", ".pf_fragment", ".pf_filter")
SEARCH_ENTRY = "pagefind-entry.json"

ASSETS, PAGES, LISTINGS, SEARCH_CODE, SEARCH_ENTRY_PHASE, MANIFEST_PHASE = range(6)
PHASES = ("assets", "pages", "listings", "search code", "search entry", "manifest")

_TEXT = "; charset=utf-8"
TYPES = {
    ".html": "text/html" + _TEXT, ".htm": "text/html" + _TEXT,
    ".xml": "application/xml" + _TEXT, ".json": "application/json" + _TEXT,
    ".txt": "text/plain" + _TEXT, ".csv": "text/csv" + _TEXT, ".md": "text/markdown" + _TEXT,
    ".css": "text/css" + _TEXT, ".js": "text/javascript" + _TEXT, ".mjs": "text/javascript" + _TEXT,
    ".svg": "image/svg+xml" + _TEXT,
    ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf",
    ".wasm": "application/wasm",
    # Pagefind's index and its compressed WebAssembly: binary, decoded by pagefind.js itself.
    ".pf_meta": "application/octet-stream", ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream", ".pf_filter": "application/octet-stream",
    ".pagefind": "application/octet-stream",
}
_BUILTIN_TYPES = mimetypes.MimeTypes(filenames=())   # Python's own table only: the same on every machine

Progress = Callable[[int, int, int, int, "str | None"], None]
"""progress(files done, files in all, bytes done, bytes in all, the file just uploaded or None)."""


class PublishError(SpeechgenError):
    """The site could not be published (or compared); the message says why and what was left."""


@dataclass(frozen=True)
class Target:
    bucket: str
    prefix: str                  # "" or "some/folder/"

    def key(self, dest: str) -> str:
        return self.prefix + dest

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class LocalFile:
    dest: str                    # path in the site, "2025/x/index.html"
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class PublishReport:
    target: str
    uploaded: tuple[str, ...]    # dests, in the order they went up (or would, on a dry run)
    new: tuple[str, ...]         # of those, the ones the bucket did not hold at all
    unchanged: int
    deleted: tuple[str, ...]     # keys (or, on a dry run, keys that --delete would remove)
    stale: tuple[str, ...]       # keys under the prefix the site no longer has
    bytes: int
    seconds: float
    dry_run: bool = False
    asked: int = 0               # objects asked for their SHA-256 (HEAD): not known from the record


# --- what goes where, with which headers ------------------------------------------------------

def parse_target(text: str) -> Target:
    """'s3://bucket/some/prefix' -> Target('bucket', 'some/prefix/')."""
    parts = urlsplit(text)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise PublishError(f"{text}: tujuan harus / the target must be s3://BUCKET or s3://BUCKET/PREFIX")
    prefix = parts.path.strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise PublishError(f"{text}: the prefix must be a plain path (no '//', '.' or '..')")
    return Target(parts.netloc, f"{prefix}/" if prefix else "")


def content_type(dest: str) -> str:
    name = posixpath.basename(dest)
    if dest.startswith(f"{FEEDS}/") and name.endswith(".xml"):
        return "application/atom+xml" + _TEXT
    if dest == CHECKSUMS:
        return "text/plain" + _TEXT
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in TYPES:
        return TYPES[suffix]
    guessed, encoding = _BUILTIN_TYPES.guess_type(name, strict=False)
    if guessed is None or encoding is not None:       # .gz and friends: the bytes as they are
        return "application/octet-stream"
    return guessed + _TEXT if guessed.startswith("text/") else guessed


def content_addressed(dest: str) -> bool:
    """A file whose name changes whenever its bytes do: cached for a year, never revalidated."""
    return dest.startswith(f"{SEARCH_BUNDLE}/") and dest.endswith(CONTENT_ADDRESSED)


def cache_control(dest: str) -> str:
    return IMMUTABLE if content_addressed(dest) else SHORT


def phase_of(dest: str) -> int:
    """When a file goes up: after everything it links to, before everything that links to it."""
    name = posixpath.basename(dest)
    if dest == MANIFEST:
        return MANIFEST_PHASE
    if dest.startswith(f"{SEARCH_BUNDLE}/"):
        if content_addressed(dest):
            return ASSETS
        return SEARCH_ENTRY_PHASE if name == SEARCH_ENTRY or dest == SEARCH_RECENT_LIST else SEARCH_CODE
    listings = tuple(f"{folder}/" for folder in (*ARCHIVE_FOLDERS.values(), FEEDS))
    if dest in (HOME, SITEMAP, ROBOTS, CHECKSUMS) or dest.startswith(listings):
        return LISTINGS
    if name.endswith((".html", ".htm")):
        return PAGES
    return ASSETS


def headers_tag(dest: str) -> str:
    """Names the headers a file is sent with, so an object uploaded with other headers (an older
    rule, another tool) is sent again even when its bytes are the same."""
    return hashlib.sha256(f"{content_type(dest)}\n{cache_control(dest)}".encode()).hexdigest()[:16]


# --- the local side: the built folder ---------------------------------------------------------

def local_files(site: Path) -> list[LocalFile]:
    """Every file of the built site, with its SHA-256 and size: from the build's record where
    there is one (a file whose size no longer matches is hashed again), else by walking the folder
    and hashing. Only regular files inside the folder; a link anywhere is refused."""
    site = site.absolute()
    if not site.is_dir():
        raise PublishError(f"{site}: tidak ada situs / no built site here; run `speechgen build` first "
                           "(or give the folder with --site)")
    root = site.resolve()
    listing, digest = read_marker(site)
    if not digest:                      # no record of a build, or not one: hash every file
        listing = {dest: ("", -1) for dest in _walk(site)}
    files = []
    for dest, (sha, size) in sorted(listing.items()):
        if dest == MARKER:
            continue
        try:
            safe_dest(dest)
        except OutputError as exc:
            raise PublishError(f"{site / MARKER}: {exc}") from None
        path = site.joinpath(*dest.split("/"))
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode) or not path.resolve().is_relative_to(root):
                raise PublishError(f"{path}: is a link; publish sends only the regular files inside "
                                   f"{site}, never what a link points to")
            if not stat.S_ISREG(info.st_mode):
                raise PublishError(f"{path}: is not a regular file")
            if info.st_size != size:
                sha, size = sha256_file(path), info.st_size
        except FileNotFoundError:
            raise PublishError(f"{path}: missing, though its build wrote it; run `speechgen build` "
                               "again before publishing") from None
        except OSError as exc:
            raise PublishError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        files.append(LocalFile(dest, path, sha, size))
    if not files:
        raise PublishError(f"{site}: the site folder is empty; run `speechgen build` first")
    return files


def _walk(site: Path) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(site):
        for name in dirs + names:
            path = Path(folder) / name
            if path.is_symlink():
                raise PublishError(f"{path}: is a link; publish sends only the regular files inside "
                                   f"{site}, never what a link points to")
        found += [(Path(folder) / name).relative_to(site).as_posix() for name in names]
    return found


@contextlib.contextmanager
def _build_waits(site: Path, notice: Callable[[str], None]) -> Iterator[None]:
    """Hold the output's lock (shared) while reading the site, so a build into it waits, and
    this run never reads half of one build and half of the next."""
    if not (site / MARKER).is_file():
        yield
        return
    fd = lock_output(site.absolute(), exclusive=False, wait=lambda: notice(
        f"{site}: a build is writing here; waiting for it to finish (build sedang menulis; menunggu)"))
    try:
        yield
    finally:
        os.close(fd)


# --- the bucket -------------------------------------------------------------------------------

def check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise PublishError(f"{endpoint}: --endpoint must be an http:// or https:// URL")


def make_client(endpoint: str | None, jobs: int = JOBS):
    """An S3 client from the standard AWS credential chain; `endpoint` for any S3-compatible store."""
    import boto3
    from botocore.config import Config

    if endpoint is not None:
        check_endpoint(endpoint)
    config = Config(
        connect_timeout=10, read_timeout=120, retries={"mode": "standard"},
        max_pool_connections=max(10, jobs * 2), user_agent_extra=f"speechgen/{__version__}",
        # Checksums only where the API requires them: other S3-compatible stores refuse the
        # newer default trailers.
        request_checksum_calculation="when_required", response_checksum_validation="when_required",
        # Path-style requests (http://host/bucket/key) for any store given by its endpoint: no DNS
        # name per bucket needed.
        s3={"addressing_style": "path"} if endpoint else None)
    try:
        return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
    except Exception as exc:            # a broken config file or profile, an endpoint botocore refuses
        raise PublishError(f"cannot set up the S3 client: {exc}") from None


@dataclass(frozen=True)
class Listed:
    """An object as a listing shows it: enough to tell whether it was written again since."""

    size: int
    etag: str
    modified: str


def _list(client, target: Target) -> dict[str, Listed]:
    """Every object under the prefix. Folder placeholders (keys ending in /) are not objects of
    the site and are left alone."""
    found: dict[str, Listed] = {}
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=target.prefix)
    for page in pages:
        for item in page.get("Contents", ()):
            if not item["Key"].endswith("/"):
                modified = item.get("LastModified")
                found[item["Key"]] = Listed(item["Size"], item.get("ETag", ""),
                                            modified.isoformat() if modified else "")
    return found


def _remote_state(client, target: Target, dest: str) -> tuple[str, str, str] | None:
    """The SHA-256 and headers tag an object carries, and its ETag; None when it is gone."""
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=target.bucket, Key=target.key(dest))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    meta = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
    return meta.get(SHA_KEY, ""), meta.get(HEADERS_KEY, ""), head.get("ETag", "")


def _read_record(client, target: Target, listed: Listed | None) -> dict[str, list]:
    """The record the last run left: dest -> [etag, size, modified, sha256, headers tag]. Any
    problem with it (none, unreadable, another format) is an empty record: it only saves HEADs."""
    if listed is None or listed.size > 64 * 1024 * 1024:
        return {}
    try:
        body = client.get_object(Bucket=target.bucket, Key=target.key(RECORD))["Body"].read()
        data = json.loads(body)
        objects = data["objects"] if data.get("format") == RECORD_FORMAT else {}
        return {dest: entry for dest, entry in objects.items()
                if isinstance(dest, str) and isinstance(entry, list) and len(entry) == 5}
    except Exception:
        return {}


def _write_record(client, target: Target, known: dict[str, tuple[str, str, str]]) -> None:
    """What this run knows for sure of each object (its SHA-256 and headers tag, by the ETag it
    had when this run wrote or asked it), with the ETag, size and time a new listing shows; an
    object written again by someone else since (another ETag) is left out."""
    listed = _list(client, target)
    objects = {}
    for dest, (etag, sha, tag) in sorted(known.items()):
        now = listed.get(target.key(dest))
        if now is not None and etag and now.etag == etag:
            objects[dest] = [now.etag, now.size, now.modified, sha, tag]
    body = json.dumps({"format": RECORD_FORMAT, "generator": f"speechgen {__version__}",
                       "objects": objects}, separators=(",", ":")).encode("utf-8")
    client.put_object(Bucket=target.bucket, Key=target.key(RECORD), Body=body,
                      ContentType="application/json" + _TEXT, CacheControl="no-cache")


def _upload(client, target: Target, file: LocalFile) -> int:
    """One file up, with its type, caching and SHA-256 (of the bytes actually sent)."""
    extra = {"ContentType": content_type(file.dest), "CacheControl": cache_control(file.dest)}
    tag = headers_tag(file.dest)
    try:
        if file.size > LARGE:
            from boto3.s3.transfer import TransferConfig

            sha = sha256_file(file.path)
            client.upload_file(str(file.path), target.bucket, target.key(file.dest),
                               ExtraArgs={**extra, "Metadata": {SHA_KEY: sha, HEADERS_KEY: tag}},
                               Config=TransferConfig(multipart_threshold=LARGE, use_threads=False))
            return os.path.getsize(file.path), None      # its ETag: asked by the next run
        data = file.path.read_bytes()
    except OSError as exc:
        raise PublishError(f"{file.path}: cannot read it: {exc.strerror or exc}") from None
    sha = hashlib.sha256(data).hexdigest()
    answer = client.put_object(Bucket=target.bucket, Key=target.key(file.dest), Body=data,
                               Metadata={SHA_KEY: sha, HEADERS_KEY: tag}, **extra)
    return len(data), (answer.get("ETag", ""), sha, tag)


def _delete(client, target: Target, key: str) -> None:
    # One request per object: DeleteObjects needs a checksum header that not every store takes.
    client.delete_object(Bucket=target.bucket, Key=key)


# --- the run ----------------------------------------------------------------------------------

@dataclass
class _Run:
    client: object
    target: Target
    jobs: int
    done: int = 0
    done_bytes: int = 0
    asked: int = 0                                  # HEADs
    order: list[str] = field(default_factory=list)
    known: dict[str, tuple[str, str, str]] = field(default_factory=dict)   # dest -> (etag, sha256, tag)

    def each(self, items: list, work: Callable, finished: Callable) -> None:
        """`work(item)` for every item on the thread pool; `finished(item, result)` in this
        thread as each ends. On the first failure nothing more starts, what is in flight ends,
        and the failure is raised: the next phase never begins."""
        if not items:
            return
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="publish")
        try:
            futures: dict[Future, object] = {pool.submit(work, item): item for item in items}
            failure: BaseException | None = None
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                try:
                    result = future.result()
                except Exception as exc:
                    if failure is None:
                        failure = exc
                        for other in futures:
                            other.cancel()
                    continue
                if failure is None:
                    finished(futures[future], result)
            if failure is not None:
                raise failure
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def publish(site: Path, to: str, *, endpoint: str | None = None, delete: bool = False,
            dry_run: bool = False, jobs: int = JOBS, progress: Progress | None = None,
            notice: Callable[[str], None] = lambda message: None, client=None) -> PublishReport:
    """Publish the built folder `site` to `to` (s3://BUCKET/PREFIX). See the module's doc."""
    started = time.perf_counter()
    target = parse_target(to)
    site = Path(site)
    with _build_waits(site, notice):
        files = local_files(site)
        if client is None:
            client = make_client(endpoint, jobs)
        run = _Run(client, target, jobs)
        where = _where(target, endpoint, client)
        try:
            remote = _list(client, target)
            record = _read_record(client, target, remote.pop(target.key(RECORD), None))
            todo, new, unchanged = _compare(run, files, remote, record)
        except PublishError:
            raise
        except Exception as exc:
            raise PublishError(f"{where}: {explain(exc, endpoint, client)}; nothing was uploaded") from None
        ours = {target.key(f.dest) for f in files}
        stale = tuple(sorted(key for key in remote if key not in ours))
        todo.sort(key=lambda f: (phase_of(f.dest), f.dest))
        total_bytes = sum(f.size for f in todo)
        if dry_run:
            return PublishReport(str(target), tuple(f.dest for f in todo), tuple(sorted(new)), unchanged,
                                 stale if delete else (), stale, total_bytes,
                                 time.perf_counter() - started, dry_run=True, asked=run.asked)
        if progress:
            progress(0, len(todo), 0, total_bytes, None)

        def finished(file: LocalFile, result: tuple[int, tuple[str, str, str] | None]) -> None:
            sent, state = result
            run.done += 1
            run.done_bytes += sent
            run.order.append(file.dest)
            if state is not None:
                run.known[file.dest] = state
            if progress:
                progress(run.done, len(todo), run.done_bytes, total_bytes, file.dest)

        phase = ASSETS
        try:
            for phase in range(len(PHASES)):
                batch = [f for f in todo if phase_of(f.dest) == phase]
                run.each(batch, lambda f: _upload(client, target, f), finished)
        except Exception as exc:
            raise PublishError(f"{where}: {explain(exc, endpoint, client)}. {run.done} of {len(todo)} "
                               f"changed files were uploaded (stopped in phase '{PHASES[phase]}'); "
                               "nothing was deleted and no page went up before its files, so the "
                               "site in the bucket is whole. Jalankan lagi / run the same command "
                               "again to finish.") from None
        deleted: list[str] = []
        if delete and stale:
            try:
                run.each(list(stale), lambda key: _delete(client, target, key),
                         lambda key, _: deleted.append(key))
            except Exception as exc:
                raise PublishError(f"{where}: every file was published, but removing old objects "
                                   f"failed after {len(deleted)} of {len(stale)}: "
                                   f"{explain(exc, endpoint, client)}. Run the command again to "
                                   "finish.") from None
        if todo or deleted or run.asked or len(record) != len(run.known):
            try:
                _write_record(client, target, run.known)
            except Exception as exc:       # the site is whole: the next run asks every object again
                notice(f"{where}: peringatan / warning: the record of what the bucket holds "
                       f"({target.key(RECORD)}) could not be written ({explain(exc, endpoint, client)}); "
                       "the site is published, and the next run compares every object again")
    return PublishReport(str(target), tuple(run.order), tuple(sorted(new)), unchanged,
                         tuple(sorted(deleted)), stale, run.done_bytes, time.perf_counter() - started,
                         asked=run.asked)


def _compare(run: _Run, files: list[LocalFile], remote: dict[str, Listed],
             record: dict[str, list]) -> tuple[list[LocalFile], set[str], int]:
    """What must go up: files the bucket lacks, holds at another size, or holds with another
    SHA-256 or other headers. An object's SHA-256 is taken from the record when the object is
    still as the record saw it (same ETag, size and time: never written since), else asked with
    a HEAD."""
    todo: list[LocalFile] = []
    new: set[str] = set()
    ask: list[LocalFile] = []
    unchanged = 0

    def compare(file: LocalFile, sha: str, tag: str) -> None:
        nonlocal unchanged
        if (sha, tag) == (file.sha256, headers_tag(file.dest)):
            unchanged += 1
        else:
            todo.append(file)

    for file in files:
        listed = remote.get(run.target.key(file.dest))
        if listed is None:
            todo.append(file)
            new.add(file.dest)
            continue
        if listed.size != file.size:
            todo.append(file)
            continue
        entry = record.get(file.dest)
        if entry is not None and entry[:3] == [listed.etag, listed.size, listed.modified] and listed.etag:
            run.known[file.dest] = (listed.etag, entry[3], entry[4])
            compare(file, entry[3], entry[4])
        else:
            ask.append(file)

    def answered(file: LocalFile, state: tuple[str, str, str] | None) -> None:
        run.asked += 1
        if state is None:                      # gone since the listing
            todo.append(file)
            new.add(file.dest)
            return
        sha, tag, etag = state
        if sha:
            run.known[file.dest] = (etag, sha, tag)
        compare(file, sha, tag)

    run.each(ask, lambda f: _remote_state(run.client, run.target, f.dest), answered)
    return todo, new, unchanged


def _where(target: Target, endpoint: str | None, client) -> str:
    shown = endpoint or getattr(getattr(client, "meta", None), "endpoint_url", None)
    return f"{target} ({shown})" if shown else str(target)


def explain(exc: BaseException, endpoint: str | None, client=None) -> str:
    """A failure of the store or the network in words a user can act on, never a traceback."""
    from botocore import exceptions as bx

    if isinstance(exc, PublishError):
        return str(exc)
    host = endpoint or getattr(getattr(client, "meta", None), "endpoint_url", None) or "the S3 endpoint"
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return ("tidak ada kredensial / no credentials found: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role provides them")
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = error.get("Message") or ""
        detail = f"{code}{': ' + message if message else ''}"
        if code == "NoSuchBucket":
            return f"bucket tidak ada / no such bucket at {host}; create it first"
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                    "TokenRefreshRequired", "InvalidClientTokenId", "AuthorizationHeaderMalformed"):
            return f"kredensial ditolak / the store refused these credentials ({detail})"
        if code in ("AccessDenied", "403", "Forbidden") or status == 403:
            return (f"akses ditolak / access denied ({detail or 'HTTP 403'}): the credentials are "
                    "wrong or may not list, read, write or delete here")
        return f"the store answered {detail or status}"
    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError)):     # refused, closed, timed out, TLS
        return f"tidak dapat menghubungi / cannot reach {host}: {exc}"
    if isinstance(exc, bx.BotoCoreError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"
