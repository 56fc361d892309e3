"""`build(config) -> Report`: preflight -> read -> graph -> render (remembered) -> write.

The only stage that memoizes. Every output of the inventory is made in turn and streamed to the
writer as soon as it exists; nothing is held until the end. An output is reused from the cache
only when the build can prove it unchanged:

- a page or book records what its template read (`deps`), and is reused when every object it read
  digests as before, with the same code, templates, config and direct inputs (its static key);
- a book also records every file WeasyPrint read, with its SHA-256;
- QR codes, card sheets, Markdown and the search index are keyed by their whole input.

`check` is the same build into a private folder with the cache read-only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from speechgen import deps, editions, graph, markdown, preflight, printed, reader, signing, texts
from speechgen.cache import Cache, key
from speechgen.config import CONFIG_NAME, Config
from speechgen.errors import ConfigError, OutputError, Problem, Problems, SourceError, display_path
from speechgen.graph import Options, Site
from speechgen.model import PdfInfo
from speechgen.render import cards, html, manifest, pdf, preview, search
from speechgen.render import search as search_render     # in build(), `search` is the option
from speechgen.render.pdf import sha256sums
from speechgen.render.qr import QrMaker, pack, unpack
from speechgen.templates import Templates, format_date, words_warning
from speechgen.workers import pool as workers_pool
from speechgen.writer import (SiteWriter, check_output_dir, clean_leftovers, lock_output, read_marker,
                              sha256_file, site_digest)

Log = Callable[[str], None]
RACY_NS = 2_000_000_000          # a file stamped this recently is hashed, not trusted by its stamp
RACY_READ_LIMIT = 64 * 1024 * 1024   # a larger recent file is not hashed for the shortcut: the build runs
PdfMap = dict[tuple[str, str], PdfInfo]


class Cancelled(Exception):
    """`cancel()` said stop (the preview saw a new edit): the output is left as it was."""


@dataclass(frozen=True)
class Report:
    speeches: int
    pages: int
    files: int
    bytes: int
    seconds: float
    out: Path | None
    copies: int = 0              # recipients' copies, each with its QR code
    rendered: int = 0            # outputs made this time (the rest came from the cache)
    unchanged: bool = False      # the output already held exactly this site
    unreleased: tuple[tuple[str, str], ...] = ()   # (speech id, lang) whose PDF is not a released edition
    drafts: tuple[str, ...] = ()                   # sources left out as drafts
    deferred: int = 0            # books left out this time (`defer_pdfs`): not in the cache, not released
    proofs: tuple[str, ...] = ()                   # speech ids whose card sheet is a proof (no released edition)
    embargoed: tuple[tuple[str, str, str], ...] = ()   # (speech id, lang, moment) held back by `embargo:`
    embargo_passed: tuple[tuple[str, int, str], ...] = ()   # (file, line, moment) of an embargo passed, still set


def build(config: Config, *, out: Path | None = None, drafts: bool = False, write: bool = True,
          log: Log = lambda message: None, card_pdfs: bool = True, preview: bool = False,
          pdf: bool | None = None, jobs: int | None = None,
          progress: Callable[[int, int], None] | None = None, cache: Cache | None = None,
          inspect: Callable[[Path, Site], None] | None = None, notice: Log = lambda message: None,
          search: bool | None = None, require_released: bool = False,
          require_signed: bool = False, defer_pdfs: bool = False,
          cancel: Callable[[], bool] | None = None, at: dt.datetime | None = None,
          unseal: bool = False, writing: Callable[[SiteWriter], None] | None = None) -> Report:
    """`card_pdfs=False` skips the card sheets (slow) but still makes the QR codes; `preview=True`
    (the local preview) allows an http base_url for the QR codes. `pdf` overrides [pdf] enabled;
    `jobs` is the number of PDF worker processes (default: every core); `progress(done, total)`
    follows the PDFs being rendered. `write=False` builds into a private folder that is removed
    at the end, with the cache read-only; `inspect(folder, site)` is called on the finished files first.
    `notice` gets what a user should see even without --verbose (waiting for another build).
    `search=False` leaves the search index out (default: made when Pagefind is installed).
    `require_released=True` makes a PDF that is not a released edition an error;
    `require_signed=True` makes a missing signing key an error (otherwise: unsigned, said once).
    `defer_pdfs=True` (the preview's first pass) renders no book: a PDF not released and not in
    the cache is left out, and counted in `Report.deferred`, for a second, full build to make.
    `cancel()` is asked between stages and within each (every 64 sources read, Markdown bodies,
    pages or previews; while books and card sheets are laid out); True raises `Cancelled`, the
    stage's workers are stopped and the output stays as it was. `at` builds the site as of that moment (default: the clock): a speech
    under an `embargo:` later than it is in no public output; `unseal=True` (the preview, `release`)
    keeps every speech, its held pages marked. `writing(writer)` is handed the writer before the
    first output is written (the preview serves `writer.files` from `writer.tmp` until the swap)."""
    started = time.perf_counter()
    moment = at if at is not None else dt.datetime.now(dt.timezone.utc)
    if write:
        out = (out or config.root / "site").absolute()
        check_output_dir(out, config.root)     # fail before any work, not after it
    store = cache if cache is not None else Cache.for_project(config.root, writable=write)
    if store.warning:
        notice(store.warning)
    for stray in reader.misplaced(config):     # said even when nothing else changed
        notice(f"peringatan / warning: {display_path(stray.path, config.root)}: {stray.message}")
    installed = search_render.available()
    options = Options(pdf=config.pdf.enabled if pdf is None else pdf, cards=card_pdfs,
                      search=installed if search is None else search and installed)
    if search is not False and not installed:
        log("search index skipped: the 'pagefind' package is not installed (pip install 'pagefind[extended]')")

    # A project that is exactly as the last build into `out` found it, with the output as that
    # build left it, needs nothing more: stop before reading a source.
    settings = (str(out), drafts, card_pdfs, preview, repr(options), require_released, require_signed, unseal)
    shortcut = write and inspect is None and not defer_pdfs and out is not None
    now = time.time_ns()
    if shortcut and out is not None:
        done = _unchanged_output(store, out, lambda since: _inputs(config, settings, since), notice)
        if done is not None and not _same_moment(done.pop("moments", None), moment):
            done = None                    # an embargo's moment lies between: the site is another
        if done is not None and done.pop("private", False) and not (graph.private_folder(out) / _Private.MARK).is_file():
            done = None                    # the embargoed speeches' card sheets are gone: made again
        if done is not None:
            for message in done.pop("notices"):
                notice(message)
            log(f"{out} already holds this build of the unchanged project: nothing read, nothing written")
            return Report(**done, seconds=time.perf_counter() - started, out=out, unchanged=True)
    inputs = _inputs(config, settings, now) if shortcut else None      # what this build will have read

    # Preflight, sources and graph: every problem of all three at once, before any rendering.
    problems = Problems(config.root)
    templates, media = preflight.check_project(config, problems, pdf=options.pdf, cards=options.cards)
    _markdown_ahead(config, store, jobs, log, cancel)
    sources = reader.read_project(config, drafts=drafts, problems=problems,
                                  render=_remembered_markdown(store), read=_remembered_sources(store, config, cancel))
    _raise_sources(problems)        # speechgen.toml's own problems wait for the site's (base_url): all at once
    if require_signed and media.signer is None and not problems:
        problems.add(config.path, None, "--require-signed: " + (
            f"no signing key: set {signing_env()} to the publisher's PKCS#12 file"
            if config.signing.certificate else "[signing] certificate is not set"))
    plan = editions.plan(config, sources, problems, _sha_memo(store), notice=notice)
    if require_released:             # with or without PDFs: what is published must be released
        for speech_id, lang in plan.unreleased:
            speech = next(s for s in sources.speeches if s.id == speech_id)
            if not unseal and (opens := speech.opens(lang)) is not None and opens > moment:
                continue                   # not published before its embargo's moment
            version = speech.versions[lang]
            pending = plan.pending[(speech_id, lang)]
            problems.add(version.source, 1, f"edition {pending.number} is not released (--require-released): "
                         "run `speechgen release` and commit editions.txt and editions/")
    _raise_sources(problems)
    plan = editions.load_texts(config, plan, sources)
    options = dataclasses.replace(options, signed=media.signer is not None)
    said: list[str] = []
    if (words := words_warning(config.site.languages)) is not None:
        said.append(f"warning: {words}")
    if config.signing.certificate and media.signer is None:
        said.append(f"unsigned: {signing_env()} is not set, so the manifest carries no signature")
    elif media.signer is not None and not config.signing.timestamp_url and not signing.is_sample(media.certificate):
        # (a SAMPLE certificate proves nothing to anyone: no word about its time)
        said.append("warning: [signing] timestamp_url is not set: signatures cannot prove their time (tanpa cap "
                    "waktu, waktu tanda tangan tidak terbukti); the manifest's is judged at the present time")
    for message in said:
        notice(message)
    kept_embargo = _kept_embargo(config)
    site = graph.make_site(config, sources, options, plan, _fingerprint(media.certificate), at=moment,
                           unseal=unseal, kept_embargo=kept_embargo)
    known_moments = graph.moments(sources.speeches) + [   # and those its released editions were under
        m for s in sources.speeches for lang in s.versions if s.opens(lang) is not None
        for e in plan.of(s, lang) if (m := kept_embargo(e)) is not None]
    preflight.check_site(site, media, problems, preview=preview)
    for message in printed.check(site, problems):      # a printed card's URL never goes away
        notice(message)
    fonts = _font_digests(media.fonts)         # read once a build, by every stage that draws with them
    _check_glyphs(site, media, fonts, problems, store)
    _raise(problems)
    log(f"read {len(site.speeches)} speeches; {len(site.outputs)} outputs to make")

    private = None if write else Path(tempfile.mkdtemp(prefix="speechgen-check-"))
    try:
        target = out if write else private / "site"
        stamps_key = key("stamps", str(target))
        with SiteWriter(target, config.root if write else private, wait=notice,
                        stamps=_load_stamps(store.get("stamps", stamps_key))) as writer:
            run = _Run(site, templates, media, fonts, store, writer, log, jobs)
            run.defer = defer_pdfs
            run.cancel = cancel
            if writing is not None:      # the preview serves each output from here as soon as it is written
                writer.served = True     # so each is renamed into place whole
                writing(writer)
            pdfs = run.books(jobs, progress) if options.pdf else _released_books(site)
            run.pages(pdfs, jobs)
            # The search index is made beside the previews and static files, one shard at a time
            # (one indexer's memory), and is in before the card sheets' workers start.
            with run.indexing(options.search) as indexing:
                run.files()              # first: the pages just written need their stylesheet
                run.previews(jobs)
                indexing.finish()
            run.copies(pdfs)
            listed = manifest.render_manifest(site, pdfs, signing.certificate_history(
                signing.read_statements(config.root)) if site.certificate else ())
            writer.write(site.manifest_dest, listed)
            if media.certificate:
                writer.write(site.certificate_dest, signing.pem(media.certificate))
            if media.signer is not None:
                stamped = write and not preview and out is not None     # `check` and `serve` ask no TSA
                writer.write(site.manifest_signature_dest, signing.sign_manifest(
                    listed, media.signer, timestamp_url=config.signing.timestamp_url if stamped else "",
                    previous=signing.read_previous(out / site.manifest_signature_dest) if stamped else None,
                    renewals=signing.read_statements(config.root)))
            if site.outputs_of("checksums"):
                public = {(s.id, lang) for s in site.speeches for lang in s.versions}
                kept = [PdfInfo(e.dest, e.sha256, e.pages, e.bytes)
                        for ident, every in plan.released.items() if ident in public for e in every]
                writer.write(site.checksums_dest, sha256sums([*pdfs.values(), *kept]))
            if inspect is not None:
                inspect(writer.tmp, site)
            written = writer.commit() if write else None
            if write and out is not None:
                run.private.commit(graph.private_folder(out))
            if written is not None and not written.unchanged:
                store.put("stamps", stamps_key, json.dumps(writer.stamps).encode())
            files = len(writer.files)
            size = sum(s for _, s in writer.files.values())
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    if written is not None:
        log(f"{out} already holds these {files} files: left as it was" if written.unchanged
            else f"wrote {files} files ({size:,} bytes) to {out}")
    summary = dict(speeches=len(site.speeches), pages=len(site.pages), files=files, bytes=size,
                   copies=len(site.copies) if config.qr.enabled else 0,
                   unreleased=tuple(plan.unreleased), drafts=tuple(sources.drafts), proofs=cards.proofs(site),
                   embargoed=tuple((e.speech, e.lang, e.opens.isoformat()) for e in site.embargoes),
                   embargo_passed=_embargo_passed(sources.speeches, moment, config))
    if inputs is not None and written is not None and out is not None and not run.deferred:
        valid_until = media.signer.valid_until.timestamp() if media.signer is not None else None
        store.put("unchanged", key("unchanged", str(out)), json.dumps(dict(
            inputs=inputs, since=now, site=site_digest(writer.files), valid_until=valid_until, notices=said,
            summary=summary, moments=_moments(known_moments, moment), private=bool(run.private.files))).encode())
    return Report(**summary, seconds=time.perf_counter() - started, out=out if write else None,
                  rendered=run.rendered, unchanged=bool(written and written.unchanged), deferred=run.deferred)


def project_settings(config: Config) -> str:
    """The config as cache keys take it: wherever the project is (a CI checkout with a restored
    cache may be anywhere), never its absolute path; what the outputs are made from is the same."""
    return repr(dataclasses.replace(config, root=Path(".")))


def _inputs(config: Config, settings: tuple, since: int) -> str | None:
    """One SHA-256 over everything a build reads: its settings, the config, speechgen's code, and
    every file of the project a build may open (speeches, templates, static files, recipients, the
    editions, the files the config names, the signing key the environment names), each by its path,
    size, stamps and inode; a file stamped less than `RACY_NS` before `since` (the start of the
    build that is or was recorded) by its bytes instead, since its stamps cannot tell a change
    made in the same tick. None, so that the build reads everything, when a folder among them is
    a link, a file is not a regular file, or a recent file is too large to hash here."""
    digest = hashlib.sha256(key("inputs", *map(str, settings), repr(config)).encode())
    try:
        from importlib import metadata

        digest.update(metadata.version("pagefind").encode())
    except Exception:                  # not installed: the settings already say no search
        digest.update(b"-")
    secret = os.environ.get(signing.KEY_ENV, "").strip()
    passphrase = os.environ.get(signing.PASSPHRASE_ENV, "")
    digest.update(hashlib.sha256(f"{secret}\0{passphrase}".encode()).digest())
    named = (config.pdf.emblem, *config.pdf.fonts, config.qr.logo, config.signing.certificate)
    roots = [config.path, config.speeches_dir, config.templates_dir, config.static_dir,
             config.recipients_file, config.ledger_file, config.editions_dir,
             config.root / signing.RENEWALS_DIR,     # the renewal statements `keys rollover` keeps
             *(config.root / name.lstrip("/") for name in named if name),
             *([Path(secret).expanduser()] if secret else [])]
    fresh = since - RACY_NS
    for root in roots:
        for path in _files_under(root):
            if path is None:
                return None
            try:
                info = os.stat(path)
                if not S_ISREG(info.st_mode):
                    return None                   # a FIFO, a device: the build reads it and says why
                if info.st_mtime_ns > fresh or info.st_ctime_ns > fresh:
                    if info.st_size > RACY_READ_LIMIT:
                        return None
                    digest.update(os.fsencode(path) + f"\0bytes {sha256_file(path)}\n".encode())
                    continue
            except OSError:
                digest.update(os.fsencode(path) + b"\0absent\n")
                continue
            digest.update(os.fsencode(path) + f"\0{_stamps(info)}\n".encode())
    return digest.hexdigest()


def _stamps(info: os.stat_result) -> str:
    """What tells a file's versions apart without reading it: size, both times, inode, mode."""
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}:{info.st_mode}"


def _settled(path: Path) -> str | None:
    """A file's stamps, if it is there and was last changed more than RACY_NS ago (a change in
    the same clock tick may leave them as they were); else None, and the file is read."""
    try:
        info = path.stat()
    except OSError:
        return None
    return None if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) < RACY_NS else _stamps(info)


def _files_under(root: Path) -> Iterator[Path | None]:
    """`root` if it is a file (or absent), else every file under it, in a stable order; None for
    a linked folder, whose files a stamp of the link does not follow."""
    if not root.is_dir():
        yield root
        return
    if root.is_symlink():
        yield None
        return
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in subfolders:
            if os.path.islink(os.path.join(folder, name)):
                yield None
                return
        for name in sorted(names):
            yield Path(folder, name)


def _unchanged_output(store: Cache, out: Path, inputs: Callable[[int], str | None], notice: Log) -> dict | None:
    """What the last build into `out` reported, if the project's `inputs` (digested as of that
    build's start) are what it read and `out` still holds every file as that build left it (its
    record, each file's size and stamp); else None."""
    raw = store.get("unchanged", key("unchanged", str(out)))
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        if record["inputs"] != inputs(int(record["since"])) or (
                record["valid_until"] is not None and time.time() >= record["valid_until"]):
            return None                   # a signing certificate expired since: preflight says so
        summary = dict(record["summary"])
        summary["unreleased"] = tuple(tuple(pair) for pair in summary["unreleased"])
        summary["drafts"] = tuple(summary["drafts"])
        summary["proofs"] = tuple(summary.get("proofs", ()))
        summary["embargoed"] = tuple(tuple(e) for e in summary.get("embargoed", ()))
        summary["embargo_passed"] = tuple(tuple(e) for e in summary.get("embargo_passed", ()))
        stamps = _load_stamps(store.get("stamps", key("stamps", str(out))))
        if not out.is_dir():
            return None
        lock = lock_output(out, exclusive=True, wait=lambda: notice(
            f"{out}: another build is writing here; waiting for it to finish (build lain sedang menulis; menunggu)"))
        try:
            clean_leftovers(out)           # what a killed build left beside the output
            files, digest = read_marker(out)
            if digest != record["site"] or not files or site_digest(files) != digest:
                return None
            for dest, (_, size) in files.items():
                info = os.stat(out / dest)
                if info.st_size != size or stamps.get(dest) != info.st_mtime_ns:
                    return None
        finally:
            os.close(lock)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return {**summary, "notices": list(record["notices"]), "moments": record.get("moments"),
            "private": record.get("private", False)}


def _moments(known: list[dt.datetime], moment: dt.datetime) -> list[str | None]:
    """The moments around `moment` among `known` (every embargo's, and those its released editions
    were released under): the last passed and the next to come. The site built as of `moment`
    is the site of every moment between them."""
    passed = [m for m in known if m <= moment]
    later = [m for m in known if m > moment]
    return [max(passed).isoformat() if passed else None, min(later).isoformat() if later else None]


def _same_moment(moments, moment: dt.datetime) -> bool:
    """`moment` lies between the embargo moments a recorded build saw around its own (`_moments`):
    no embargo opened or closed in between, so the recorded site is this moment's site too."""
    try:
        last, following = (dt.datetime.fromisoformat(m) if m is not None else None for m in moments)
    except (TypeError, ValueError):
        return False
    return (last is None or moment >= last) and (following is None or moment < following)


def _kept_embargo(config: Config) -> Callable[[object], dt.datetime | None]:
    """The `embargo:` a released edition's kept source was released with (its front matter's
    line), or None: what tells an embargo set ahead from one set on a speech already public."""
    def embargo_of(edition) -> dt.datetime | None:
        path = (config.editions_dir / edition.dest).with_suffix(".md")
        try:
            with open(path, "rb") as handle:
                head = handle.read(editions.TEXT_HEAD).decode("utf-8", "replace")
        except OSError:
            return None                   # the ledger's own check names a missing kept file
        split = reader.split_front_matter(head)
        front = split[0] if not isinstance(split, str) else head
        for line in front.splitlines():
            if line.startswith("embargo:"):
                value = line.partition(":")[2].split(" #")[0].strip().strip("'\"")
                return reader.embargo_moment(value, path, 0, Problems(config.root))
        return None
    return embargo_of


def _embargo_passed(speeches, moment: dt.datetime, config: Config) -> tuple[tuple[str, int, str], ...]:
    """Every `embargo:` whose moment has passed, still written (a later edit would take it for a
    new one): file, line and moment, for `check` to warn about."""
    return tuple((str(v.source), v.embargo_line, v.embargo.isoformat()) for s in speeches
                 for v in s.versions.values() if v.embargo is not None and v.embargo <= moment)


class _Private:
    """What the office needs of an embargoed speech and no reader may see before its moment: its
    card sheet and mailroom list (they print the title). Kept in memory while the build runs, then
    written to the private folder beside the output (`graph.private_folder`), never into it."""

    MARK = ".speechgen-private"

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def write(self, dest: str, data: bytes) -> str:
        self.files[dest] = data
        return hashlib.sha256(data).hexdigest()

    def commit(self, folder: Path) -> None:
        """The folder holds exactly this build's private files (and is removed when there are none)."""
        if not self.files and not folder.exists():
            return
        if folder.exists() and not (folder / self.MARK).is_file():
            raise OutputError(f"{folder}: exists and was not made by speechgen, so the card sheets of embargoed "
                              "speeches cannot go there; move it away (folder ini bukan buatan speechgen)")
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))   # mode 0700
        try:
            for dest, data in sorted(self.files.items()):
                path = tmp / dest
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            (tmp / self.MARK).write_text("speechgen: card sheets and mailroom lists of embargoed speeches; "
                                         "never publish this folder\n")
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            if folder.exists():
                os.replace(folder, old)
            if self.files:
                os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def signing_env() -> str:
    return f"{signing.KEY_ENV} (and {signing.PASSPHRASE_ENV})"


def _released_books(site: Site) -> PdfMap:
    """A build without PDFs still serves each speech whose latest text is released: the kept
    bytes, as `books()` takes them, never rendered."""
    plan = site.editions
    done: PdfMap = {}
    if plan is None:
        return done
    for speech in site.speeches:
        for lang in speech.versions:
            if plan.pending_of(speech, lang) is None and plan.of(speech, lang):
                latest = plan.of(speech, lang)[-1]
                done[(speech.id, lang)] = PdfInfo(site.pdf_dest(speech, lang), latest.sha256, latest.pages,
                                                  latest.bytes)
    return done


def _fingerprint(certificate: bytes) -> str:
    if not certificate:
        return ""
    return signing.certificate_fingerprint(certificate)


def _stat_known(store: Cache, path: Path) -> tuple[str, str | None]:
    """A file's stat entry in the cache, and the SHA-256 remembered under it: by size, time stamp
    and inode, except for a file stamped within the file system's clock tick (read it again)."""
    stat = path.stat()
    entry = key("stat", str(path), f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}")
    if time.time_ns() - stat.st_mtime_ns < RACY_NS:
        return entry, None
    known = store.get("stat", entry)
    return entry, known.decode() if known is not None else None


def _sha_memo(store: Cache) -> Callable[[Path], str]:
    """A file's SHA-256, remembered by its stat entry (`_stat_known`)."""
    def sha_of(path: Path) -> str:
        entry, known = _stat_known(store, path)
        if known is not None:
            return known
        sha = _file_sha(path)
        store.put("stat", entry, sha.encode())
        return sha
    return sha_of


def _font_digests(paths) -> tuple[str, ...]:
    """The project's fonts by their bytes, never their names or times alone: a font replaced under
    the same name changes every output drawn with it."""
    return tuple(deps.digest(path.read_bytes()) for path in paths)


def _check_glyphs(site: Site, media: preflight.Media, fonts: tuple[str, ...], problems: Problems,
                  store: Cache) -> None:
    """The glyph check of what PDFs and cards will print, remembered per text and fonts (`fonts`:
    the project's fonts by their bytes)."""
    fonts_key = "\0".join(fonts)
    versions = [v for s in site.speeches for v in s.versions.values()] if site.options.pdf else []
    chosen = list(site.recipients) if site.config.qr.enabled and site.options.cards and site.copies else []
    entries = {id(v): key("glyphs", v.source_sha, fonts_key) for v in versions}
    todo = [v for v in versions if store.get("glyphs", entries[id(v)]) is None]
    before = len(problems.items)
    preflight.check_glyphs(todo, chosen, media, problems, site.config.recipients_file)
    if len(problems.items) == before:
        for version in todo:
            store.put("glyphs", entries[id(version)], b"ok")


def _raise_sources(problems: Problems) -> None:
    """Stop at problems of the sources; the config's own are said with the site's, later."""
    if any(p.path != CONFIG_NAME for p in problems.items):
        _raise(problems)


def _raise(problems: Problems) -> None:
    """A ConfigError when speechgen.toml alone is at fault, a SourceError otherwise."""
    only_config = all(p.path == CONFIG_NAME for p in problems.items)
    problems.raise_if_any(ConfigError if only_config else SourceError)


def _load_stamps(raw: bytes | None) -> dict[str, int]:
    try:
        stamps = json.loads(raw) if raw else {}
        return {str(k): int(v) for k, v in stamps.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def _remembered_markdown(store: Cache) -> reader.Render:
    """Markdown is most of reading's cost: keep each body's rendering by its text (as JSON)."""
    def render(body: str, first_line: int) -> markdown.Rendered:
        entry = key("markdown", str(first_line), body)
        hit = store.get("markdown", entry)
        if hit is not None:
            try:
                return markdown.Rendered.from_json(hit)
            except (ValueError, KeyError, TypeError):
                pass                               # an entry from another layout: render again
        rendered = markdown.render(body, first_line)
        store.put("markdown", entry, rendered.to_json())
        return rendered
    return render


def _remembered_sources(store: Cache, config: Config, cancel: Callable[[], bool] | None = None) -> reader.Read:
    """A source read before, holding the same bytes at the same place in the project and read
    with the same config, with nothing wrong in it, is not parsed again: what reading found is
    remembered (`reader.parsed_record`), keyed by the file's SHA-256, never its stamps or absolute
    path (a fresh checkout, a CI runner's with the cache restored, finds every entry). Its body is
    rendered (from the Markdown cache) only if a stage asks for it. `cancel()` is asked every
    64 sources."""
    settings = project_settings(config)
    sources_read = 0

    def read(path: Path, config: Config, problems: Problems, render: reader.Render):
        nonlocal sources_read
        sources_read += 1
        if sources_read % 64 == 0 and cancel is not None and cancel():
            raise Cancelled()
        data = reader.read_project_file(path, config, Problems(config.root), reader.MAX_SOURCE_BYTES)
        entry = ""
        if data is not None:             # else read_source says why it cannot be read
            try:
                place = path.relative_to(config.root).as_posix()
            except ValueError:
                place = str(path)
            sha = hashlib.sha256(data).hexdigest()
            entry = key("parsed", settings, place, sha)
            raw = store.get("parsed", entry)
            if raw is not None:
                parsed = _recalled_source(raw, data, sha, path, config, render)
                if parsed is not None:
                    return parsed
        count = len(problems.items)
        parsed = reader.read_source(path, config, problems, render)
        if entry and parsed is not None and len(problems.items) == count \
                and parsed.version.source_sha == sha:          # not changed between the two reads
            store.put("parsed", entry, reader.parsed_record(parsed))
        return parsed
    return read


def _recalled_source(raw: bytes, data: bytes, sha: str, path: Path, config: Config,
                     render: reader.Render) -> "reader._Parsed | None":
    """A remembered reading of `data` (the file's bytes, of SHA-256 `sha`); None to read it."""
    try:
        parsed = reader.parsed_from_record(raw, path)
        text = data.decode("utf-8")
    except (ValueError, KeyError, TypeError):
        return None
    if sha != parsed.version.source_sha:
        return None

    def body() -> str:           # reads the file again: a build holds no text it was not asked for
        again = reader.read_project_file(path, config, Problems(config.root), reader.MAX_SOURCE_BYTES)
        split = reader.split_front_matter(again.decode("utf-8", "replace")) if again is not None else ""
        html = render(split[1], split[2]).html if not isinstance(split, str) else ""
        if hashlib.sha256(html.encode("utf-8")).hexdigest() != parsed.version.body_sha:
            raise SourceError([Problem(str(path), None, "its body renders otherwise than when it was read; "
                                       "build again")])
        return html
    texts.STORE.put(text)
    texts.STORE.expect(parsed.version.body_sha, body)
    return parsed


def _markdown_ahead(config: Config, store: Cache, jobs: int | None, log: Log,
                    cancel: Callable[[], bool] | None = None) -> None:
    """Render in worker processes every body the cache does not hold yet, so that reading (one
    source after another) finds each in the cache: Markdown is most of a cold read's time, and
    a machine has more than one core. Nothing when only a few are missing. Bodies are read again
    as the workers take them, never all held at once. `cancel()` is asked every 64 bodies (the
    workers are stopped and what they made is kept)."""
    if not store.writable:
        return
    hints: dict[Path, str] = {}

    def seen(path: Path) -> bool:
        """This file, at these stamps, was last read with its body in the cache: not read now.
        Only a hint (a wrong one costs a body rendered while reading, never a wrong page)."""
        stamps = _settled(path)
        if stamps is None:
            return False
        hints[path] = key("ahead", os.fsencode(path), stamps)
        return store.has("ahead", hints[path])

    missing = []
    for path, body, line in reader.bodies(config, skip=seen):
        if not store.has("markdown", key("markdown", str(line), body)):
            missing.append(path)
        elif path in hints:
            store.put("ahead", hints[path], b"")
    if len(missing) < MARKDOWN_AHEAD_MIN:
        return
    todo = ((body, line) for _, body, line in reader.bodies(config, missing))
    made_here = _pooled_map(_render_markdown, todo, jobs, count=len(missing))
    try:
        for count, (entry, made) in enumerate(made_here, 1):
            store.put("markdown", entry, made)
            if count % 64 == 0 and cancel is not None and cancel():
                raise Cancelled()
    finally:
        made_here.close()        # its workers end now, not when the generator is collected
    for path in missing:
        if path in hints:                 # as read at those stamps: its body is in the cache now
            store.put("ahead", hints[path], b"")
    log(f"markdown: {len(missing)} bodies rendered ahead")


def _render_markdown(item: tuple[str, int]) -> tuple[str, bytes]:
    """A body's cache entry and its rendering (in a worker: the body never comes back)."""
    body, line = item
    return key("markdown", str(line), body), markdown.render(body, line).to_json()


class _Run:
    """One build's rendering: each stage makes its outputs, reusing what it can prove unchanged."""

    def __init__(self, site: Site, templates: Templates, media: preflight.Media, fonts: tuple[str, ...], store: Cache,
                 writer: SiteWriter, log: Log, jobs: int | None = None) -> None:
        self.site = site
        self.jobs = jobs
        self.templates = templates
        self.media = media
        self.fonts = fonts               # the project's fonts by their bytes (`_font_digests`)
        self.store = store
        self.writer = writer
        self.log = log
        self.rendered = 0
        self.defer = False               # books not in the cache are left for a later build
        self.deferred = 0
        self.cancel: Callable[[], bool] | None = None
        self.private = _Private()        # embargoed speeches' card sheets: beside the output
        self.resolver = deps.Resolver(site, {})
        # The config names the project's fonts; their bytes are what a book is drawn with.
        self.globals = key("globals", templates.digest, project_settings(site.config), *fonts)

    # --- records: an output with what it read --------------------------------------------------

    def _recall(self, static: str) -> dict | None:
        """The record of an output made from `static` inputs, if everything it read is unchanged
        and its bytes are at hand (in the previous output or the cache)."""
        raw = self.store.get("trace", static)
        if raw is None:
            return None
        try:
            head, _, inline = raw.partition(b"\n")
            record = json.loads(head)
            if record.get("inline"):
                record["data"] = inline
            unchanged = all(self.resolver.token_digest(t) == d for t, d in record["deps"].items()) \
                and all(_file_sha(_located(p, self.site.config.root)) == s
                        for p, s in record.get("files", {}).items())
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return record if unchanged else None

    def _put_back(self, dest: str, record: dict) -> bool:
        """Write a recalled output: linked from the previous output, or its bytes from the cache."""
        sha = record["sha256"]
        if self.writer.reuse(dest, sha):
            return True
        data = record["data"] if record.get("inline") else self.store.get("blob", sha)
        if data is None or hashlib.sha256(data).hexdigest() != sha:
            return False
        self.writer.write(dest, data)
        return True

    def _put_back_all(self, files: list[list[str]]) -> bool:
        """Every file of a remembered set, or none: linked from the previous output where it
        still is, else its bytes from the cache (each checked against its SHA-256)."""
        todo = [(dest, sha) for dest, sha in files if not self.writer.has(dest, sha)]
        blobs = {dest: self.store.get("blob", sha) for dest, sha in todo}
        if not all(blobs[d] is not None and hashlib.sha256(blobs[d]).hexdigest() == s for d, s in todo):
            return False
        for dest, sha in files:
            if not self.writer.reuse(dest, sha):
                self.writer.write(dest, blobs[dest])
        return True

    def _keep(self, static: str, dest: str, data: bytes, tokens: Iterable[str], *, inline: bool = False,
              **extra) -> dict:
        """Write a fresh output and remember it with what it read. Small outputs (pages) keep their
        bytes in the record itself, one cache file each; large ones (books) in a blob of their own,
        so checking a record never reads a PDF."""
        sha = self.writer.write(dest, data)
        record = dict(sha256=sha, bytes=len(data), inline=inline,
                      deps={t: self.resolver.token_digest(t) for t in sorted(tokens)}, **extra)
        entry = json.dumps(record, sort_keys=True).encode()
        if inline:
            entry += b"\n" + data
        else:
            self.store.put("blob", sha, data)
        self.store.put("trace", static, entry)
        self.rendered += 1
        return record

    def checkpoint(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled()

    # --- stages ------------------------------------------------------------------------------------

    def books(self, jobs: int | None, progress) -> PdfMap:
        site, env = self.site, self.templates.env
        plan = site.editions
        assert plan is not None
        done: PdfMap = {}
        misses = []
        released = 0
        for speech in site.speeches:
            for lang, version in speech.versions.items():
                dest = site.pdf_dest(speech, lang)
                pending = plan.pending_of(speech, lang)
                if pending is None:          # released as it is: the kept bytes, never rendered
                    latest = plan.of(speech, lang)[-1]
                    done[(speech.id, lang)] = PdfInfo(dest, latest.sha256, latest.pages, latest.bytes)
                    released += 1
                    continue
                context = pdf.book_context(site, speech, version, self.media.emblem, pending)
                static = key("book", self.globals, dest, deps.shallow(dict(context, config=None)))   # in globals
                record = self._recall(static)
                if record is not None and self._put_back(dest, record):
                    done[(speech.id, lang)] = PdfInfo(dest, record["sha256"], record["pages"], record["bytes"])
                else:
                    misses.append((speech, version, dest, static))   # its HTML is made when its turn comes
        self.log(f"PDF: {len(done) + len(misses)} books, {len(done) - released} from the cache, "
                 f"{len(misses)} to render" + (f", {released} released (kept bytes)" if released else ""))
        if self.defer:
            self.deferred, misses = len(misses), []
        self.checkpoint()
        if progress:
            progress(0, len(misses))
        problems = Problems(site.config.root)
        # A batch at a time: a book's HTML and source wait in memory only while their batch renders.
        for start in range(0, len(misses), BOOKS_PER_BATCH):
            batch = {}
            for speech, version, dest, static in misses[start:start + BOOKS_PER_BATCH]:
                context = pdf.book_context(site, speech, version, self.media.emblem,
                                           plan.pending_of(speech, version.lang))
                with deps.recording() as tokens:
                    job = pdf.make_job(site, env, speech, version, context, self.templates.print_css)
                batch[dest] = (job, static, set(tokens), (speech.id, version.lang), version.source)

            self.checkpoint()

            def counted(done_here: int, _total: int, offset: int = start) -> None:
                if progress and done_here:
                    progress(offset + done_here, len(misses))
            for dest, outcome in pdf.render_books([(d, b[0]) for d, b in batch.items()], jobs, counted,
                                                  stop=self.cancel):
                _, static, tokens, ident, source = batch[dest]
                if isinstance(outcome, str):
                    problems.add(source, None, f"cannot make the PDF: {outcome}")
                    continue
                data, pages, read = outcome
                record = self._keep(static, dest, data, tokens, pages=pages,
                                    files={_portable(p, site.config.root): sha for p, sha in read})
                done[ident] = PdfInfo(dest, record["sha256"], pages, len(data))
            self.checkpoint()            # render_books ends early when cancelled: stop here
        problems.raise_if_any(SourceError)
        self.resolver = deps.Resolver(site, done)       # pages read the PDFs' facts
        return done

    def pages(self, pdfs: PdfMap, jobs: int | None = None) -> None:
        site, env = self.site, self.templates.env
        misses = []
        for page in site.pages:
            extra = html.page_context(site, page, pdfs, recipe=True)
            static = key("page", self.globals, deps.fields(page), deps.shallow(extra))
            record = self._recall(static)
            if record is None or not self._put_back(page.dest, record):
                misses.append((page, static))     # its context is made again when it renders: not held
        problems = Problems(site.config.root)
        for count, ((page, static), made) in enumerate(zip(misses, _render_pages(env, site, pdfs, misses, jobs))):
            if count % 64 == 63:
                self.checkpoint()        # the preview stopped or edited again: not the whole stage first
            if isinstance(made, SourceError):
                problems.extend(made.problems)
            else:
                data, tokens = made
                self._keep(static, page.dest, data, tokens, inline=True)
        problems.raise_if_any(SourceError)
        self.log(f"pages: {len(site.pages)}, {len(misses)} rendered")

    def previews(self, jobs: int | None = None) -> None:
        """Each speech page's link preview image, and the favicon: kept by their whole input."""
        site, media = self.site, self.media
        image = media.logo or media.emblem_image
        emblem = image.png if image is not None else b""
        extra = tuple(media.fonts)
        fonts_key = "\0".join(self.fonts)
        jobs_todo = []
        for speech in site.speeches:
            for lang, version in speech.versions.items():
                values = (version.title, version.speaker, format_date(version.date, lang),
                          site.config.site.title, emblem, extra)
                entry = key("preview", *(v if isinstance(v, bytes) else str(v) for v in values[:5]), fonts_key)
                dest = site.preview_dest(speech, lang)
                # kept as a book is: linked from the previous output by its SHA-256, else from the cache
                record = self._recall(entry)
                if record is None or not self._put_back(dest, record):
                    jobs_todo.append((entry, dest, values))
        drawn = _pooled_map(_draw_preview, [v for _, _, v in jobs_todo], jobs)
        for count, ((entry, dest, _), data) in enumerate(zip(jobs_todo, drawn)):
            if count % 64 == 63:
                self.checkpoint()
            self._keep(entry, dest, data, ())
        if site.favicon:
            self.writer.write(site.favicon_dest, preview.favicon_png(emblem or None, site.config.site.title))
        if jobs_todo:
            self.log(f"previews: {len(jobs_todo)} drawn")

    def files(self) -> None:
        """Theme assets and static files, copied as they are (linked when unchanged)."""
        for output in self.site.outputs_of("file") + self.site.outputs_of("edition"):
            assert output.source is not None
            entry, known = _stat_known(self.store, output.source)
            if known is not None and self.writer.reuse(output.dest, known):
                continue
            sha = self.writer.copy(output.dest, output.source)
            self.store.put("stat", entry, sha.encode())

    def copies(self, pdfs: PdfMap) -> None:
        """QR codes of every copy; per speech the mailroom list and the card sheet."""
        site = self.site
        config = site.config
        if not config.qr.enabled or not site.copies:
            return
        layout = cards.LAYOUTS[config.qr.card_size]
        maker = QrMaker(layout.qr_mm, config.qr.error_correction, self.media.logo)
        urls = [site.url(site.copy_dest(c)) for c in site.copies]
        codes = {}
        for url in urls:
            raw = self.store.get("qr", key("qr", maker.recipe, url))
            try:
                codes[url] = unpack(url, raw) if raw is not None else None
            except (ValueError, KeyError, TypeError):
                codes[url] = None
        missing = [u for u, c in codes.items() if c is None]
        for url, code in maker.make_all(missing).items():
            codes[url] = code
            self.store.put("qr", key("qr", maker.recipe, url), pack(code))
            self.rendered += 1
        self.log(f"QR codes: {len(missing)} drawn, {len(codes) - len(missing)} kept")
        for copy in site.copies:
            url = site.url(site.copy_dest(copy))
            code = codes[url]
            self.writer.write(site.qr_dest(copy, "png"), code.png)
            self.writer.write(site.qr_dest(copy, "svg"), code.svg)
            codes[url] = dataclasses.replace(code, png=b"", svg=b"")    # the sheet needs the modules only
        # A card is printed once: a final sheet names the first released edition, which stays
        # authentic for good; before a release the sheet is a proof, naming no PDF that may never be.
        sheets = []
        problems = Problems(config.root)
        for speech in (*site.speeches, *site.sealed):    # an embargoed speech's cards go out ahead
            chosen = site.copies_of(speech)
            if not chosen:
                continue
            first = cards.first_edition(site, speech)
            proof = first is None
            fingerprint = first.released_fingerprint if first is not None else ""
            edition = first.number if first is not None else None
            if site.options.cards:      # every card's words fit their places, or the build names the line
                problems.extend(cards.layout_problems(site, speech, chosen, layout, self.media.fonts,
                                                      fingerprint=fingerprint, edition=edition, proof=proof,
                                                      emblem=bool(self.media.card_emblem)))
            sheets.append((speech, chosen, proof, fingerprint, edition))
        problems.raise_if_any(SourceError)
        # the project's fonts draw the cards: kept by their bytes, not their paths
        fonts = self.fonts
        for speech, chosen, proof, fingerprint, edition in sheets:
            sink = self.private if site.is_sealed(speech) else self.writer    # never in the output before its moment
            sink.write(site.cards_dest(speech, "csv"), cards.mailroom_csv(site, chosen, fingerprint, proof=proof))
            if not site.options.cards:
                continue
            self.checkpoint()

            def sheet_html(number: int, part) -> str:
                return cards.card_sheet_html(self.templates.env, site, speech, part, codes, layout, fingerprint,
                                             self.media.logo, self.media.card_emblem, edition=edition, proof=proof,
                                             fonts=self.media.fonts, cover=number == 0)

            # In parts of whole sheets, each laid out by a worker and kept by its HTML; joined into one file.
            parts = cards.parts(chosen, layout)
            # A part's HTML is made again only when something it read changed (its record, as a
            # page's): the PDF is then found by that HTML's key without laying the HTML out.
            htmls: list[str | None] = []
            entries = []
            for number, part in enumerate(parts):
                static = key("cardpart", self.globals, speech.id, str(number), maker.recipe, layout.name,
                             fingerprint, str(edition), str(proof), deps.digest(self.media.card_emblem), *fonts,
                             *(f"{c.number}/{c.total}/{c.recipient!r}" if c else "-" for c in part))
                record = self._recall(static)
                if record is not None and isinstance(record.get("html"), str):
                    htmls.append(None)
                    entries.append(record["html"])
                    continue
                with deps.recording() as tokens:
                    html = sheet_html(number, part)
                entry = key("cards", html, *fonts)
                self.store.put("trace", static, json.dumps(
                    {"deps": {t: self.resolver.token_digest(t) for t in sorted(tokens)}, "html": entry},
                    sort_keys=True).encode())
                htmls.append(html)
                entries.append(entry)
            found = [self.store.get("cards", entry) for entry in entries]
            todo = [n for n, data in enumerate(found) if data is None or not data.startswith(b"%PDF-")]
            for n in todo:               # a part whose PDF left the cache: its HTML again
                if htmls[n] is None:
                    htmls[n] = sheet_html(n, parts[n])
            made = cards.sheet_pdfs(site, speech, [htmls[n] for n in todo],
                                    [len(parts[n]) for n in todo], self.jobs, stop=self.cancel)
            self.checkpoint()            # the sheets' workers stop when cancelled: stop here
            for n, data in zip(todo, made):
                found[n] = data
                self.store.put("cards", entries[n], data)
                self.rendered += 1
            sink.write(site.cards_dest(speech, "pdf"), pdf.join(found))
            self.log(f"card sheet {site.cards_dest(speech, 'pdf')}: {len(todo)} of {len(parts)} parts laid out"
                     + ("; a PROOF: no released edition yet" if proof else ""))

    def indexing(self, wanted: bool) -> "_Indexing":
        """The Pagefind index of the public speech pages, from the pages as written. A shard whose
        pages are all as it indexed them is put back as it was. A page changed or added since is
        indexed again in the small recent bundle, and the shard's old entry for it is hidden, until
        more than SEARCH_RECENT_MAX pages wait there: then their shards are indexed again. What is
        to be indexed is made in a thread of its own while the build goes on, and put in by
        `finish()`."""
        self.checkpoint()
        return _Indexing(self, self._search_plan() if wanted else None)

    def _search_plan(self) -> "_SearchPlan":
        site, writer = self.site, self.writer
        version = search.pagefind_version()
        now = {d: writer.files[d][0] for shard in site.search_shards for d in shard.pages}
        plan = _SearchPlan(version)
        kept: list = []         # (shard, its record, its pages changed since, its entries to hide)
        for shard in site.search_shards:
            record = _json_record(self.store.get("search", key("search", version, shard.dest)), "pages", "files")
            if record is None:
                plan.shards.append(shard)
                continue
            indexed = record["pages"]
            changed = [d for d in shard.pages if indexed.get(d, ("",))[0] != now[d]]
            members = set(shard.pages)
            replaced = [d for d, (sha, _) in indexed.items() if d not in members or now[d] != sha]
            hide = [indexed[d][1] for d in replaced]
            if None in hide:                        # an entry without an id cannot be hidden
                plan.shards.append(shard)
            else:
                kept.append((shard, record, changed, hide))
        if sum(len(changed) + len(hide) for _, _, changed, hide in kept) > SEARCH_RECENT_MAX:
            plan.shards += [shard for shard, _, changed, hide in kept if changed or hide]
            kept = [k for k in kept if not (k[2] or k[3])]
        for shard, record, changed, hide in kept:
            if self._put_back_all(record["files"]):
                plan.recent += changed
                plan.hidden.update(hide)
            else:
                plan.shards.append(shard)           # its files are lost: indexed again
        plan.shards.sort(key=lambda shard: shard.dest)
        plan.recent.sort()
        if plan.recent:
            plan.recent_entry = key("recent", version, *(f"{d}\0{now[d]}" for d in plan.recent))
            record = _json_record(self.store.get("recent", plan.recent_entry), "files", "ids", "languages")
            if record is not None and self._put_back_all(record["files"]):
                plan.recent_done = record
        return plan


SEARCH_RECENT_MAX = 64      # pages changed since their shard was indexed, kept in the recent bundle


def _json_record(raw: bytes | None, *keys: str) -> dict | None:
    """A cache record as a dict holding `keys`; None when absent or of another layout."""
    try:
        record = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return record if isinstance(record, dict) and all(k in record for k in keys) else None


@dataclass
class _SearchPlan:
    """What the search index needs this build: the shards to index, the pages that go into the
    recent bundle (already put back when `recent_done`), and the shards' entries to hide."""

    version: str
    shards: list = dataclasses.field(default_factory=list)
    recent: list[str] = dataclasses.field(default_factory=list)
    recent_entry: str = ""
    recent_done: dict | None = None
    hidden: set[str] = dataclasses.field(default_factory=set)

    def jobs(self) -> list[tuple[str, tuple[str, ...]]]:
        """(bundle folder, pages) for each Pagefind run, in order."""
        jobs = [(shard.dest, shard.pages) for shard in self.shards]
        if self.recent and self.recent_done is None:
            jobs.append((graph.SEARCH_RECENT, tuple(self.recent)))
        return jobs


class _Indexing:
    """The bundles to index, one Pagefind process after another in a thread (Pagefind is a process
    of its own, so the thread waits while the build's own work goes on). Used as a context
    manager: however the build ends, the thread is stopped after its current bundle and every
    scratch folder is removed."""

    def __init__(self, run: _Run, plan: _SearchPlan | None) -> None:
        import threading

        self.run = run
        self.plan = plan
        self.jobs = plan.jobs() if plan is not None else []
        self.made: list = []                  # (scratch, files, page ids) per job, in order
        self.cleaners: dict = {}              # scratch -> the process removing its pages' copies
        self.failed: BaseException | None = None
        self.stop = False
        self.thread = threading.Thread(target=self._index_all, name="speechgen-search", daemon=True) \
            if self.jobs else None
        if self.thread is not None:
            self.thread.start()

    def _index_all(self) -> None:
        writer = self.run.writer
        for bundle, pages in self.jobs:
            if self.stop or (self.run.cancel is not None and self.run.cancel()):
                return
            scratch = Path(tempfile.mkdtemp(prefix=f".{writer.out.name}.tmp-search-", dir=writer.out.parent))
            self.made.append((scratch, None, None, None))
            try:
                files = search.build_index([(d, writer.path_of(d)) for d in pages], scratch, bundle)
                ids = search.page_ids(files, bundle)
                languages = search.languages(files, bundle)
            except BaseException as exc:      # handed to the build's own thread by finish()
                self.failed = exc
                return
            self.made[-1] = (scratch, files, ids, languages)
            self.cleaners[scratch] = _remove_beside(scratch / "pages")    # the copies Pagefind read

    def __enter__(self) -> "_Indexing":
        return self

    def __exit__(self, *exc) -> None:
        self.stop = True
        if self.thread is not None:
            self.thread.join()
        for scratch, *_ in self.made:
            self._wait_cleaner(scratch)
            shutil.rmtree(scratch, ignore_errors=True)

    def _wait_cleaner(self, scratch: Path) -> None:
        cleaner = self.cleaners.pop(scratch, None)
        if cleaner is not None:
            cleaner.wait()

    def finish(self) -> None:
        """Wait for the bundles, put each one in the output (its record in the cache), and write
        the list of what the recent bundle replaces."""
        plan = self.plan
        if plan is None or not self.run.site.search_shards:
            return
        if self.thread is not None:
            self.thread.join()
        run, writer = self.run, self.run.writer
        run.checkpoint()
        recent = plan.recent_done
        try:
            if self.failed is not None:
                raise self.failed
            for (bundle, pages), (scratch, made, ids, languages) in zip(self.jobs, self.made):
                kept = []
                for dest, path in made:        # moved in; kept in the output only (a bundle whose
                    if run.store.shared:       # files are lost is indexed again), and in a CI's shared
                        data = path.read_bytes()   # cache too: restored without the output
                        run.store.put("blob", hashlib.sha256(data).hexdigest(), data)
                    kept.append((dest, writer.adopt(dest, path)))
                self._wait_cleaner(scratch)
                shutil.rmtree(scratch, ignore_errors=True)
                if bundle == graph.SEARCH_RECENT:
                    recent = dict(files=kept, ids=sorted(set(ids.values())), languages=languages)
                    run.store.put("recent", plan.recent_entry, json.dumps(recent).encode())
                else:
                    record = dict(files=kept, pages={d: (writer.files[d][0], ids.get(d)) for d in pages})
                    run.store.put("search", key("search", plan.version, bundle), json.dumps(record).encode())
                run.rendered += 1
        except (search.SearchUnavailable, OSError) as exc:
            folder = writer.out.parent
            if _full(folder):          # the indexer may leave empty files on a full disk, not fail
                raise OutputError(f"{folder}: cannot write the search index: no space left on the device") from None
            reason = exc if isinstance(exc, search.SearchUnavailable) else exc.strerror or exc
            raise SourceError([Problem(str(writer.out), None, f"cannot make the search index: {reason}")]) from None
        hidden = plan.hidden - set(recent["ids"] if recent else ())
        writer.write(graph.SEARCH_RECENT_LIST, json.dumps(
            dict(bundle="recent/" if recent else None, languages=recent["languages"] if recent else [],
                 hidden=sorted(hidden)),
            separators=(",", ":")).encode())
        shards = sum(1 for bundle, _ in self.jobs if bundle != graph.SEARCH_RECENT)
        run.log(f"search index: {shards} of {len(run.site.search_shards)} shards re-indexed, "
                f"{len(plan.recent)} pages in the recent bundle")


def _remove_beside(folder: Path):
    """Remove `folder` in a process of its own, waited for only when its scratch folder goes: the
    pages' copies a Pagefind run has read are thousands of unlinks and rmdirs that wait on the
    disk (about 0.25 CPU-s and seconds of waiting for the 1,000-speech archive's 1,500 pages), so
    they go on beside the build, not at its end. None where there is no `rm`: the copies then go
    with their scratch folder."""
    import subprocess

    rm = shutil.which("rm")
    if rm is None or not folder.is_dir():
        return None
    try:
        return subprocess.Popen([rm, "-rf", "--", str(folder)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


MARKDOWN_AHEAD_MIN = 100        # fewer missing bodies than this are rendered while reading
BOOKS_PER_BATCH = 100           # books whose HTML is made and held at once
PAGES_PER_WINDOW = 512           # pages asked of the workers at once (their bytes wait here)
POOL_MIN_PAGES = 200             # fewer pages than this render faster here than in a pool
_POOLED: tuple | None = None     # what forked page workers render from (set just before the fork)


def _render_pages(env, site: Site, pdfs: PdfMap, misses: list, jobs: int | None) -> Iterator:
    """Each page's (bytes, what it read), or its SourceError, in order and one at a time (the
    caller writes each before the next arrives); in forked workers when there are many, since
    templates are CPU work in pure Python and a machine has more than one core."""
    global _POOLED
    workers = min(jobs or _cores(), len(misses) // (POOL_MIN_PAGES // 2))
    if workers < 2 or len(misses) < POOL_MIN_PAGES or not _can_fork():
        yield from (_render_one(env, site, pdfs, page) for page, _ in misses)
        return
    import multiprocessing

    _POOLED = (env, site, pdfs, [page for page, _ in misses])
    try:
        with workers_pool(multiprocessing.get_context("fork"), workers) as pool:
            # A window at a time: pages the workers made wait for the writer in this process's
            # memory, so no more than a window of them is asked for at once.
            for start in range(0, len(misses), PAGES_PER_WINDOW):
                yield from pool.imap(_render_pooled, range(start, min(start + PAGES_PER_WINDOW, len(misses))),
                                     chunksize=16)
    finally:
        _POOLED = None


def _render_one(env, site: Site, pdfs: PdfMap, page) -> tuple[bytes, list[str]] | SourceError:
    try:
        with deps.recording() as tokens:
            data = html.render_page(env, site, page, html.page_context(site, page, pdfs))
    except SourceError as error:
        return error
    return data, sorted(tokens)


def _render_pooled(index: int):
    assert _POOLED is not None
    env, site, pdfs, todo = _POOLED
    return _render_one(env, site, pdfs, todo[index])


def _draw_preview(values: tuple) -> bytes:
    title, speaker, date_text, site_title, emblem, extra = values
    return preview.preview_png(title, speaker, date_text, site_title, emblem or None, extra)


def _pooled_map(function, items: Iterable, jobs: int | None, count: int | None = None) -> Iterator:
    """`function` over `items` in order: in forked workers when there are enough to pay for them
    (`count` of them, when `items` is an iterator, which the workers then take as they go)."""
    workers = min(jobs or _cores(), (len(items) if count is None else count) // 50)  # type: ignore[arg-type]
    if workers < 2 or not _can_fork():
        yield from map(function, items)
        return
    import multiprocessing

    with workers_pool(multiprocessing.get_context("fork"), workers) as pool:
        yield from pool.imap(function, items, chunksize=8)


def _cores() -> int:
    return pdf.usable_cores()


def _can_fork() -> bool:
    """fork only while this process has one thread: a fork copies no lock another thread holds
    (the preview server builds in a thread: it renders here)."""
    import multiprocessing
    import threading

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _full(folder: Path) -> bool:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 256 * 1024


_PACKAGE = Path(__file__).resolve().parent


def _portable(path: str, root: Path) -> str:
    """A file a book read, as its record names it: within the project or speechgen's own theme,
    by its place there, so that a checkout elsewhere (a CI runner) finds it again."""
    for base, prefix in ((root, ""), (_PACKAGE, "<speechgen>/")):
        try:
            return prefix + Path(path).relative_to(base).as_posix()
        except ValueError:
            continue
    return path


def _located(name: str, root: Path) -> Path:
    """Where a file named by `_portable` is now (a name from an older record is absolute)."""
    if name.startswith("<speechgen>/"):
        return _PACKAGE / name[len("<speechgen>/"):]
    return root / name


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "absent"
