"""`speechgen publish`: the built site to an S3-compatible bucket, only what changed, in an order
that never shows a reader half a site.

What is published is a built site folder and nothing else: the files its build recorded in
`.speechgen-output` (that record itself stays home), each a regular file inside the folder with
the bytes the record gives. Refused before anything connects: a folder without that record, one
holding anything the record does not list (a dotfile, a key), a file changed since the build; a
site whose PDFs are not released editions (unless allowed: a preview); and, when the project
signs, one whose PDFs are neither signed nor vouched for by the build's signed manifest.

Every request waits at most REQUEST_TIMEOUT seconds for the store's next bytes and is tried at
most ATTEMPTS times; the whole exchange with the store has a deadline (`timeout`), after which
no request starts. The bucket is compared by SHA-256: every object speechgen uploads carries its SHA-256 (and a tag of
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
  7. only with --delete, and only after all of that: objects under the prefix the site no longer has,
     except a released edition's PDF (`*.edisi-N.pdf`) or a copy page (`.../salinan/...`): a
     printed card or a reader's citation points there, so those are never deleted
  8. the record of what the bucket now holds

So a run that stops midway leaves every page in the bucket pointing at files that exist (nothing
old is deleted before the end, and no page goes up before its files), and the next run uploads
what is still missing. Credentials come from the standard AWS chain (environment, config files,
instance roles); speechgen never reads or stores one itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import mimetypes
import os
import posixpath
import queue
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from speechgen import __version__, signing
from speechgen.config import load_config
from speechgen.editions import EDITION_WORD
from speechgen.errors import OutputError, SpeechgenError
from speechgen.graph import (ARCHIVE_FOLDERS, CERTIFICATE, CHECKSUMS, COPY_FOLDER, FEEDS, HOME, MANIFEST, MANIFEST_SIGNATURE, ROBOTS, SEARCH_BUNDLE, SEARCH_ENGINE, SEARCH_RECENT_LIST, SITEMAP,
                             pretty)
from speechgen.writer import MARKER, lock_output, read_marker, safe_dest, sha256_file, site_digest

SHORT = "public, max-age=300"                       # pages, feeds, manifest, anything that may change
IMMUTABLE = "public, max-age=31536000, immutable"   # content-addressed: the name changes with the bytes
RECORD = ".speechgen-published"                     # under the prefix: what the last run saw, by ETag
RECORD_FORMAT = "speechgen-published 1"
SHA_KEY = "sha256"                                  # x-amz-meta-sha256
HEADERS_KEY = "speechgen-headers"                   # x-amz-meta-speechgen-headers
JOBS = 8                                            # uploads (and HEADs) in flight at once
LARGE = 64 * 1024 * 1024                            # bigger files go up in parts, streamed from disk
TIMEOUT = 600.0                                     # seconds for the whole exchange with the store (--timeout)
REQUEST_TIMEOUT = 30                                # seconds a request waits for the store's next bytes
CONNECT_TIMEOUT = 10                                # seconds to open a connection
ATTEMPTS = 3                                        # tries of one request, the first included

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
    redirect: str = ""           # a renamed speech's old page: the URL a bucket website sends readers to


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
    prefix: str = ""             # the target's prefix: a key less it is the site path


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
    if dest == SEARCH_ENGINE:            # gzip bytes search.js unpacks: never sent with a Content-Encoding
        return "application/gzip"
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


def headers_tag(dest: str, redirect: str = "") -> str:
    """Names the headers a file is sent with, so an object uploaded with other headers (an older
    rule, another tool, another redirect) is sent again even when its bytes are the same."""
    named = f"{content_type(dest)}\n{cache_control(dest)}" + (f"\n{redirect}" if redirect else "")
    return hashlib.sha256(named.encode()).hexdigest()[:16]


def with_redirects(files: list[LocalFile]) -> list[LocalFile]:
    """A renamed speech's old pages (`aliases:` in the manifest) carry the S3 website redirect
    header to their new URL, beside their own redirect page: a bucket website answers with a 301."""
    manifest = _manifest({f.dest: f for f in files})
    base = manifest.get("base_url")
    speeches = manifest.get("speeches")
    if not isinstance(base, str) or not isinstance(speeches, list):
        return files
    moved: dict[str, str] = {}               # old folder -> new folder
    for speech in speeches:
        if isinstance(speech, dict) and isinstance(speech.get("id"), str) and isinstance(speech.get("aliases"), list):
            moved.update({f"{alias}/": f"{speech['id']}/" for alias in speech["aliases"] if isinstance(alias, str)})
    if not moved:
        return files
    dests = {f.dest for f in files}
    out = []
    for file in files:
        old = next((folder for folder in moved if file.dest.startswith(folder)), None)
        target = moved[old] + file.dest[len(old):] if old is not None and file.dest.endswith(".html") else ""
        out.append(dataclasses.replace(file, redirect=base + pretty(target)) if target in dests else file)
    return out


def _manifest(by_dest: dict[str, LocalFile]) -> dict:
    """The site's manifest.json as a mapping ({} when it is missing or not one)."""
    manifest_file = by_dest.get(MANIFEST)
    if manifest_file is None:
        return {}
    try:
        manifest = json.loads(manifest_file.path.read_bytes())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


# --- the local side: the built folder ---------------------------------------------------------

SHOWN = 10                                          # names listed in a refusal, then "and N more"


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" dan {len(names) - SHOWN} lagi / and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def local_files(site: Path, jobs: int = JOBS) -> list[LocalFile]:
    """The built site, exactly as its build recorded it in `.speechgen-output` (which stays home).

    Refused, before anything connects: a folder with no record of a build (any other folder:
    a project, a home folder, a folder of keys), a record that does not add up or lists a path
    that is not plain or is hidden, a file or folder the record does not list (a dotfile, a key
    copied in), a link anywhere, and a file that is missing or whose bytes differ from the record
    (every file is hashed again: what goes up is what the build wrote)."""
    site = site.absolute()
    if not site.is_dir():
        raise PublishError(f"{site}: tidak ada situs / no built site here; run `speechgen build` first "
                           "(or give the folder with --site)")
    root = site.resolve()
    listing, digest = read_marker(site)
    if not digest or not listing:
        raise PublishError(f"{site}: bukan situs hasil speechgen build / not a site speechgen built: "
                           f"it has no record of a build ({MARKER}); publish sends only a folder "
                           "`speechgen build` made, nothing else. Jalankan / run `speechgen build` "
                           "and publish its output (PROJECT/site, or --site with the folder given to --out)")
    record = site / MARKER
    for dest in listing:
        try:
            safe_dest(dest)
        except OutputError as exc:
            raise PublishError(f"{record}: {exc}") from None
        if dest == MARKER or any(part.startswith(".") for part in dest.split("/")):
            raise PublishError(f"{record}: mencatat berkas tersembunyi / lists a hidden file, {dest!r}; "
                               "a build never writes one, and publish never sends one")
    if site_digest(listing) != digest:
        raise PublishError(f"{record}: catatan build tidak utuh / the build's record does not add up "
                           "(its digest differs from its lines: edited by hand?); run `speechgen build` again")
    unlisted = sorted(dest for dest in _walk(site) if dest != MARKER and dest not in listing)
    if unlisted:
        raise PublishError(f"{site}: berkas yang tidak dicatat build / files its build did not write: "
                           f"{_names(unlisted)}; publish sends only the build's own files and never "
                           "anything put beside them (hidden files and keys included). Remove them, or "
                           "run `speechgen build` again")

    def checked(dest: str) -> LocalFile | str:
        sha, size = listing[dest]
        path = site.joinpath(*dest.split("/"))
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode) or not path.resolve().is_relative_to(root):
                raise PublishError(f"{path}: is a link; publish sends only the regular files inside "
                                   f"{site}, never what a link points to")
            if not stat.S_ISREG(info.st_mode):
                raise PublishError(f"{path}: is not a regular file")
            if info.st_size != size or sha256_file(path) != sha:
                return dest
        except FileNotFoundError:
            raise PublishError(f"{path}: hilang / missing, though its build wrote it; run `speechgen "
                               "build` again before publishing") from None
        except OSError as exc:
            raise PublishError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        return LocalFile(dest, path, sha, size)

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, 8)), thread_name_prefix="hash") as pool:
        results = list(pool.map(checked, sorted(listing)))
    changed = [r for r in results if isinstance(r, str)]
    if changed:
        raise PublishError(f"{site}: berkas berubah sejak build / files changed since the build: "
                           f"{_names(changed)}; publish sends only the bytes the build wrote. Run "
                           "`speechgen build` again")
    return [r for r in results if isinstance(r, LocalFile)]


def _walk(site: Path) -> list[str]:
    """Every file in the folder, as a site path; a link anywhere is refused, never followed."""
    found = []
    for folder, dirs, names in os.walk(site):
        for name in dirs + names:
            path = Path(folder) / name
            if path.is_symlink():
                raise PublishError(f"{path}: is a link; publish sends only the regular files inside "
                                   f"{site}, never what a link points to")
        found += [(Path(folder) / name).relative_to(site).as_posix() for name in names]
    return found


# --- only what is released --------------------------------------------------------------------

def check_released(files: list[LocalFile], site: Path, *, allow_unreleased: bool = False,
                   signing: bool = False) -> None:
    """Refuse a site whose archival PDFs are not all released editions (unless `allow_unreleased`),
    and, when the project signs (`signing`, or the site's manifest names a certificate), one whose
    PDFs are neither signed in their bytes nor vouched for by the site's signed manifest.

    Which PDF is what comes from the site's `manifest.json` (checked against the build's record
    already): an edition listed under `editions`, or the latest `pdf` with `released: true`, at
    its path with its SHA-256. A card sheet (`cards`) is not an edition, and a PDF under
    `static/` is the project's own file, published as it is; any other PDF is not released."""
    by_dest = {f.dest: f for f in files}
    pdfs = sorted(d for d in by_dest if d.lower().endswith(".pdf"))
    manifest = _manifest(by_dest)
    signing = signing or isinstance(manifest.get("certificate"), dict)
    if not pdfs and not signing:
        return
    if not isinstance(manifest.get("speeches"), list):
        raise PublishError(f"{site / MANIFEST}: tidak ada daftar pidato / no speeches list to tell "
                           "which PDFs are released; run `speechgen build` again")
    released: dict[str, str] = {}           # dest -> SHA-256 of a released edition there
    archival: set[str] = set()              # every edition or latest PDF the manifest names
    cards: set[str] = set()
    for speech in manifest["speeches"]:
        if not isinstance(speech, dict):
            continue
        if isinstance(speech.get("cards"), str):
            cards.add(speech["cards"])
        languages = speech.get("languages")
        for entry in (languages.values() if isinstance(languages, dict) else ()):
            if not isinstance(entry, dict):
                continue
            pdf = entry.get("pdf") if isinstance(entry.get("pdf"), dict) else {}
            editions = entry.get("editions") if isinstance(entry.get("editions"), list) else []
            for item in [pdf, *editions]:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    archival.add(item["path"])
            if pdf.get("released") is True and isinstance(pdf.get("path"), str):
                released[pdf["path"]] = str(pdf.get("sha256", ""))
            for edition in editions:
                if isinstance(edition, dict) and isinstance(edition.get("path"), str):
                    released[edition["path"]] = str(edition.get("sha256", ""))
    own = {d for d in pdfs if d in cards or (d.startswith("static/") and d not in archival)}
    unreleased = [d for d in pdfs if d not in own and released.get(d) != by_dest[d].sha256]
    if unreleased and not allow_unreleased:
        raise PublishError(f"{site}: PDF belum dirilis / PDFs not released yet: {_names(unreleased)}. "
                           "An unreleased PDF can still change (`speechgen release` freezes it, and "
                           "signs it when the project signs), so a copy downloaded now might never "
                           "verify. Jalankan / run `speechgen release`, then `speechgen build`, and "
                           "publish again; or publish a preview anyway with --allow-unreleased")
    if signing:
        _check_signed(site, by_dest, [d for d in pdfs if d not in own])


def project_signs(project: Path) -> bool:
    """Whether the project's speechgen.toml sets [signing] (False where there is no project)."""
    if not (project / "speechgen.toml").is_file():
        return False
    return bool(load_config(project).signing.certificate)


def _check_signed(site: Path, by_dest: dict[str, LocalFile], pdfs: list[str]) -> None:
    """Every archival PDF signed by the site's certificate, or the manifest that lists it signed."""

    certificate = by_dest.get(CERTIFICATE)
    if certificate is None:
        raise PublishError(f"{site}: tanpa sertifikat / no {CERTIFICATE}, though the project signs "
                           "([signing] in speechgen.toml); this site was built before signing was "
                           "set up. Run `speechgen build` again")
    try:
        pem = certificate.path.read_bytes()
        p7s = by_dest.get(MANIFEST_SIGNATURE)
        if p7s is not None:
            report = signing.check_manifest_signature(by_dest[MANIFEST].path.read_bytes(),
                                                      p7s.path.read_bytes(), certificate=pem)
            if report.intact and report.trusted and not report.problems:
                return                      # the signed manifest lists every PDF's SHA-256
        unsigned = []
        for dest in pdfs:
            report = signing.check_pdf_signature(by_dest[dest].path.read_bytes(), certificate=pem)
            if not (report.signed and report.intact and report.trusted and not report.changed_after_signing):
                unsigned.append(dest)
    except OSError as exc:
        raise PublishError(f"{site}: cannot read it: {exc.strerror or exc}") from None
    except SpeechgenError as exc:
        raise PublishError(f"{site}: {exc}") from None
    if unsigned:
        raise PublishError(f"{site}: PDF tanpa tanda tangan / unsigned PDFs, though the project signs: "
                           f"{_names(unsigned)}. Their bytes carry no signature of {CERTIFICATE}, and "
                           f"no signed manifest ({MANIFEST_SIGNATURE}) vouches for them. Build with "
                           "SPEECHGEN_SIGNING_KEY set (the build signs the manifest), then publish again")


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
        # Each request bounded: a store that stops answering fails in seconds, not minutes; a store
        # that trickles bytes is stopped by the run's deadline (--timeout).
        connect_timeout=CONNECT_TIMEOUT, read_timeout=REQUEST_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
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


def _upload(client, target: Target, file: LocalFile) -> tuple[int, tuple[str, str, str] | None]:
    """One file up, with its type, caching and SHA-256; the bytes sent must be those checked
    against the build's record (a file rewritten since is refused, not sent)."""
    extra = {"ContentType": content_type(file.dest), "CacheControl": cache_control(file.dest)}
    if file.redirect:
        extra["WebsiteRedirectLocation"] = file.redirect
    tag = headers_tag(file.dest, file.redirect)
    try:
        if file.size > LARGE:
            from boto3.s3.transfer import TransferConfig

            _same(file, sha256_file(file.path))
            client.upload_file(str(file.path), target.bucket, target.key(file.dest),
                               ExtraArgs={**extra, "Metadata": {SHA_KEY: file.sha256, HEADERS_KEY: tag}},
                               Config=TransferConfig(multipart_threshold=LARGE, use_threads=False))
            return os.path.getsize(file.path), None      # its ETag: asked by the next run
        data = file.path.read_bytes()
    except OSError as exc:
        raise PublishError(f"{file.path}: cannot read it: {exc.strerror or exc}") from None
    _same(file, hashlib.sha256(data).hexdigest())
    answer = client.put_object(Bucket=target.bucket, Key=target.key(file.dest), Body=data,
                               Metadata={SHA_KEY: file.sha256, HEADERS_KEY: tag}, **extra)
    return len(data), (answer.get("ETag", ""), file.sha256, tag)


def _same(file: LocalFile, sha: str) -> None:
    if sha != file.sha256:
        raise PublishError(f"{file.path}: berubah saat menerbitkan / changed while publishing; its "
                           "bytes are no longer the build's. Run `speechgen build` again")


def _delete(client, target: Target, key: str) -> None:
    # One request per object: DeleteObjects needs a checksum header that not every store takes.
    client.delete_object(Bucket=target.bucket, Key=key)


# --- the run ----------------------------------------------------------------------------------

class _Deadline(Exception):
    """The run's deadline (--timeout) passed."""


@dataclass
class _Run:
    """One exchange with the store, bounded by a deadline: every request runs in a daemon
    thread while the caller waits no longer than the deadline; once it passes, no new request
    starts (in flight ones are abandoned: a PUT cut midway stores nothing)."""

    client: object
    target: Target
    jobs: int
    timeout: float = TIMEOUT
    deadline: float = 0.0                           # time.monotonic() at which the run stops
    stopped: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    done_bytes: int = 0
    asked: int = 0                                  # HEADs
    order: list[str] = field(default_factory=list)
    known: dict[str, tuple[str, str, str]] = field(default_factory=dict)   # dest -> (etag, sha256, tag)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout

    def refuse_late_requests(self, **_) -> None:
        """botocore's before-send: after the deadline no request (a retry, a listing's next page,
        the next upload of an abandoned thread) goes out."""
        if self.stopped.is_set():
            raise _Deadline()

    def call(self, work: Callable, *args):
        """`work(*args)` in a thread of its own, waited for until the deadline."""
        box: list = []
        self.each([args], lambda item: work(*item), lambda _, result: box.append(result))
        return box[0]

    def each(self, items: list, work: Callable, finished: Callable) -> None:
        """`work(item)` for every item, at most `jobs` at once; `finished(item, result)` in this
        thread as each ends. On the first failure nothing more starts, what is in flight ends,
        and the failure is raised: the next phase never begins. At the deadline `_Deadline` is
        raised at once."""
        if not items:
            return
        todo: queue.SimpleQueue = queue.SimpleQueue()
        for item in items:
            todo.put(item)
        results: queue.SimpleQueue = queue.SimpleQueue()
        halt = threading.Event()

        def worker() -> None:
            try:
                while not (halt.is_set() or self.stopped.is_set()):
                    try:
                        item = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        results.put(("done", item, work(item)))
                    except BaseException as exc:
                        results.put(("failed", item, exc))
            finally:
                results.put(("exit", None, None))

        workers = min(self.jobs, len(items))
        for _ in range(workers):
            threading.Thread(target=worker, name="publish", daemon=True).start()
        failure: BaseException | None = None
        try:
            while workers:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    self.stopped.set()
                    raise _Deadline()
                try:
                    kind, item, value = results.get(timeout=left)
                except queue.Empty:
                    continue
                if kind == "exit":
                    workers -= 1
                elif kind == "failed":
                    if failure is None:
                        failure = value
                        halt.set()
                elif failure is None:
                    finished(item, value)
        finally:
            halt.set()
        if failure is not None:
            raise failure


# What stays in the bucket for good, whatever a later site holds: a released edition's bytes and
# every copy page (the URL a printed QR card opens).
_PERMANENT = re.compile(rf"(?:^|/){COPY_FOLDER}/|\.{EDITION_WORD}-[0-9]+\.pdf\Z")


def permanent(dest: str) -> bool:
    """An object `--delete` never removes (a released edition, a copy page)."""
    return _PERMANENT.search(dest) is not None


def publish(site: Path, to: str, *, endpoint: str | None = None, delete: bool = False,
            dry_run: bool = False, jobs: int = JOBS, progress: Progress | None = None,
            notice: Callable[[str], None] = lambda message: None, client=None,
            allow_unreleased: bool = False, signing: bool = False,
            timeout: float = TIMEOUT, comparing: Callable[[int], None] = lambda count: None) -> PublishReport:
    """Publish the built folder `site` to `to` (s3://BUCKET/PREFIX). See the module's doc.

    Before anything connects, the folder must be the build's output as recorded, and its PDFs
    released (unless `allow_unreleased`) and signed when the project signs (`signing`: its
    [signing] is set; a site whose manifest names a certificate is checked all the same). The
    exchange with the store then has `timeout` seconds in all. `comparing(files)` is called once
    the folder passed those checks, before the store is asked anything."""
    started = time.perf_counter()
    target = parse_target(to)
    site = Path(site)
    if not timeout > 0:
        raise PublishError(f"--timeout must be more than 0 seconds, not {timeout}")
    with _build_waits(site, notice):
        files = local_files(site, jobs)
        check_released(files, site.absolute(), allow_unreleased=allow_unreleased, signing=signing)
        files = with_redirects(files)
        comparing(len(files))
        if client is None:
            client = make_client(endpoint, jobs)
        run = _Run(client, target, jobs, timeout)
        where = _where(target, endpoint, client)
        with contextlib.suppress(AttributeError):     # a stand-in client without botocore's events
            client.meta.events.register("before-send", run.refuse_late_requests)

        def failed(exc: BaseException) -> str:
            return explain(exc, endpoint, client, timeout=timeout)

        try:
            remote = run.call(_list, client, target)
            record = run.call(_read_record, client, target, remote.pop(target.key(RECORD), None))
            todo, new, unchanged = _compare(run, files, remote, record)
        except PublishError:
            raise
        except Exception as exc:
            raise PublishError(f"{where}: {failed(exc)}; nothing was uploaded") from None
        ours = {target.key(f.dest) for f in files}
        gone = sorted(key for key in remote if key not in ours)
        kept = [key for key in gone if permanent(key[len(target.prefix):])]
        stale = tuple(key for key in gone if not permanent(key[len(target.prefix):]))
        if delete and kept:
            notice(f"{len(kept):,} objek dipertahankan / objects kept though the site no longer has them: "
                   "released editions and copy pages are never deleted (a printed card or a citation "
                   "points there), e.g. " + kept[0][len(target.prefix):])
        todo.sort(key=lambda f: (phase_of(f.dest), f.dest))
        total_bytes = sum(f.size for f in todo)
        if dry_run:
            return PublishReport(str(target), tuple(f.dest for f in todo), tuple(sorted(new)), unchanged,
                                 stale if delete else (), stale, total_bytes,
                                 time.perf_counter() - started, dry_run=True, asked=run.asked,
                                 prefix=target.prefix)
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
            raise PublishError(f"{where}: {failed(exc)}. {run.done} of {len(todo)} "
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
                                   f"{failed(exc)}. Run the command again to "
                                   "finish.") from None
        if todo or deleted or run.asked or len(record) != len(run.known):
            try:
                run.call(_write_record, client, target, run.known)
            except Exception as exc:       # the site is whole: the next run asks every object again
                notice(f"{where}: peringatan / warning: the record of what the bucket holds "
                       f"({target.key(RECORD)}) could not be written ({failed(exc)}); "
                       "the site is published, and the next run compares every object again")
    return PublishReport(str(target), tuple(run.order), tuple(sorted(new)), unchanged,
                         tuple(sorted(deleted)), stale, run.done_bytes, time.perf_counter() - started,
                         asked=run.asked, prefix=target.prefix)


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
        if (sha, tag) == (file.sha256, headers_tag(file.dest, file.redirect)):
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


def explain(exc: BaseException, endpoint: str | None, client=None, timeout: float = TIMEOUT) -> str:
    """A failure of the store or the network in words a user can act on, never a traceback."""
    from botocore import exceptions as bx

    if isinstance(exc, PublishError):
        return str(exc)
    host = endpoint or getattr(getattr(client, "meta", None), "endpoint_url", None) or "the S3 endpoint"
    if isinstance(exc, _Deadline):
        return (f"batas waktu habis / out of time: the store at {host} did not finish within "
                f"{timeout:g} s (--timeout)")
    if isinstance(exc, bx.ReadTimeoutError):
        return (f"tidak ada jawaban / no answer from {host}: it sent nothing for {REQUEST_TIMEOUT} s "
                f"(tried {ATTEMPTS} times)")
    if isinstance(exc, bx.ConnectTimeoutError):
        return (f"tidak dapat menghubungi / cannot reach {host}: no connection within "
                f"{CONNECT_TIMEOUT} s (tried {ATTEMPTS} times)")
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
