"""`build(config, options) -> Report`: preflight -> read -> graph -> render (remembered) -> write.

Every output of the inventory (`Site.outputs`) is made in turn by its stage (`stages.py`) and
streamed to the writer as soon as it exists; nothing is held until the end. Each stage asks the
one memo (`memo.py`) with what its outputs are made of, and renders only what it cannot prove
unchanged. `check` is the same build into a private folder with the cache read-only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from speechgen import deps, editions, graph, memo, preflight, printed, reader, signing
from speechgen.cache import Cache
from speechgen.config import CONFIG_NAME, Config
from speechgen.errors import ConfigError, Problems, SourceError, display_path
from speechgen.graph import Options, Site
from speechgen.model import PdfInfo, Sources
from speechgen.render import cards, manifest
from speechgen.render.pdf import sha256sums
from speechgen.render import search as search_render
from speechgen.stages import Cancelled, PdfMap, Private, Stages
from speechgen.templates import Templates, site_words
from speechgen.workers import pooled_map
from speechgen.writer import SiteWriter, check_output_dir, site_digest

Log = Callable[[str], None]
__all__ = ["BuildOptions", "Cancelled", "Report", "build"]


def _quiet(message: str) -> None:
    """Says nothing: the default `log` and `notice`."""


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """What one build is asked to do besides the project's own config.

    `card_pdfs=False` skips the card sheets (slow) but still makes the QR codes; `preview=True`
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

    out: Path | None = None
    drafts: bool = False
    write: bool = True
    log: Log = _quiet
    card_pdfs: bool = True
    preview: bool = False
    pdf: bool | None = None
    jobs: int | None = None
    progress: Callable[[int, int], None] | None = None
    cache: Cache | None = None
    inspect: Callable[[Path, Site], None] | None = None
    notice: Log = _quiet
    search: bool | None = None
    require_released: bool = False
    require_signed: bool = False
    defer_pdfs: bool = False
    cancel: Callable[[], bool] | None = None
    at: dt.datetime | None = None
    unseal: bool = False
    writing: Callable[[SiteWriter], None] | None = None


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


@dataclass(frozen=True)
class _Planned:
    """What preflight, reading and the graph found: everything the stages need."""

    site: Site
    sources: Sources
    plan: editions.Editions
    templates: Templates
    media: preflight.Media
    said: list[str]                  # notices replayed when the unchanged project is not read
    moments: list[dt.datetime]       # every embargo's moment, and those its released editions were under


def build(config: Config, options: BuildOptions | None = None, **overrides) -> Report:
    """Build the site of `config` as `options` say (or as `BuildOptions(**overrides)`, the keyword form)."""
    o = dataclasses.replace(options, **overrides) if options is not None else BuildOptions(**overrides)
    started = time.perf_counter()
    moment = o.at if o.at is not None else dt.datetime.now(dt.timezone.utc)
    out = o.out
    if o.write:
        out = (out or config.root / "site").absolute()
        check_output_dir(out, config.root)     # fail before any work, not after it
        o = dataclasses.replace(o, out=out)
    store = o.cache if o.cache is not None else Cache.for_project(config.root, writable=o.write)
    if store.warning:
        o.notice(store.warning)
    for stray in reader.misplaced(config):     # said even when nothing else changed
        o.notice(f"peringatan / warning: {display_path(stray.path, config.root)}: {stray.message}")
    installed = search_render.available()
    switches = Options(pdf=config.pdf.enabled if o.pdf is None else o.pdf, cards=o.card_pdfs,
                       search=installed if o.search is None else o.search and installed)
    if o.search is not False and not installed:
        o.log("search index skipped: the 'pagefind' package is not installed (pip install 'pagefind[extended]')")

    # A project that is exactly as the last build into `out` found it, with the output as that
    # build left it, needs nothing more: stop before reading a source.
    settings = (str(out), o.drafts, o.card_pdfs, o.preview, repr(switches), o.require_released, o.require_signed,
                o.unseal)
    shortcut = o.write and o.inspect is None and not o.defer_pdfs and out is not None
    now = time.time_ns()
    if shortcut and out is not None and (done := _replayed(config, o, store, settings, moment)) is not None:
        return Report(**done, seconds=time.perf_counter() - started, out=out, unchanged=True)
    inputs = memo.inputs(config, settings, now) if shortcut else None      # what this build will have read

    planned = _plan(config, o, store, switches, moment)
    o.log(f"read {len(planned.site.speeches)} speeches; {len(planned.site.outputs)} outputs to make")
    summary, written, stages = _make(config, o, store, planned, moment)
    if inputs is not None and written is not None and out is not None and not stages.deferred:
        media = planned.media
        memo.keep_unchanged(
            store, out, inputs=inputs, since=now, site=site_digest(stages.writer.files),
            valid_until=media.signer.valid_until.timestamp() if media.signer is not None else None,
            notices=planned.said, summary=summary, moments=memo.moments(planned.moments, moment),
            private=bool(stages.private.files))
    return Report(**summary, seconds=time.perf_counter() - started, out=out if o.write else None,
                  rendered=stages.memo.rendered, unchanged=bool(written and written.unchanged),
                  deferred=stages.deferred)


def _replayed(config: Config, o: BuildOptions, store: Cache, settings: tuple, moment: dt.datetime) -> dict | None:
    """The report of the last build into `o.out`, if it already holds this build of the unchanged
    project (`memo.unchanged_output`), its notices said again; else None."""
    out = o.out
    assert out is not None
    done = memo.unchanged_output(store, out, lambda since: memo.inputs(config, settings, since), o.notice)
    if done is None or not memo.same_moment(done.pop("moments", None), moment):
        return None                    # (or an embargo's moment lies between: the site is another)
    if done.pop("private", False) and not (graph.private_folder(out) / Private.MARK).is_file():
        return None                    # the embargoed speeches' card sheets are gone: made again
    for message in done.pop("notices"):
        o.notice(message)
    o.log(f"{out} already holds this build of the unchanged project: nothing read, nothing written")
    return done


def _plan(config: Config, o: BuildOptions, store: Cache, switches: Options, moment: dt.datetime) -> _Planned:
    """Preflight, sources, editions and graph: every problem of all of them at once, before any rendering."""
    problems = Problems(config.root)
    templates, media = preflight.check_project(config, problems, pdf=switches.pdf, cards=switches.cards,
                                               compiled=memo.CompiledTemplates(store))
    sources, plan = _read(config, o, store, media, problems, moment)
    switches = dataclasses.replace(switches, signed=media.signer is not None)
    said = _said(config, media)
    for message in said:
        o.notice(message)
    kept_embargo = _kept_embargo(config)
    materials = memo.materials(config, media)     # read once a build, by every stage that draws with them
    site = graph.make_site(config, sources, switches, plan, _fingerprint(media.certificate), at=moment,
                           unseal=o.unseal, kept_embargo=kept_embargo, materials=materials)
    known_moments = graph.moments(sources.speeches) + [   # and those its released editions were under
        m for s in sources.speeches for lang in s.versions if s.opens(lang) is not None
        for e in plan.of(s, lang) if (m := kept_embargo(e)) is not None]
    preflight.check_site(site, media, problems, preview=o.preview)
    for message in printed.check(site, problems):      # a printed card's URL never goes away
        o.notice(message)
    _check_glyphs(site, media, materials.fonts, problems, store)
    _raise(problems)
    return _Planned(site, sources, plan, templates, media, said, known_moments)


def _read(config: Config, o: BuildOptions, store: Cache, media: preflight.Media, problems: Problems,
          moment: dt.datetime) -> tuple[Sources, editions.Editions]:
    """The sources (remembered readings, Markdown rendered ahead) and the editions' plan."""
    stop = _checkpoint(o.cancel)
    memo.markdown_ahead(config, store, lambda f, items, count: _stoppable(pooled_map(f, items, o.jobs, count), stop),
                        o.log)
    remembered = memo.RememberedSources(store, config)
    sources = reader.read_project(config, drafts=o.drafts, problems=problems, render=memo.remembered_markdown(store),
                                  read=_stoppable_read(remembered, stop))
    remembered.keep()
    _raise_sources(problems)        # speechgen.toml's own problems wait for the site's (base_url): all at once
    if o.require_signed and media.signer is None and not problems:
        problems.add(config.path, None, "--require-signed: " + (
            f"no signing key: set {signing_env()} to the publisher's PKCS#12 file"
            if config.signing.certificate else "[signing] certificate is not set"))
    plan = editions.plan(config, sources, problems, memo.sha_memo(store), notice=o.notice)
    if o.require_released:             # with or without PDFs: what is published must be released
        _require_released(sources, plan, problems, o.unseal, moment)
    _raise_sources(problems)
    plan = editions.load_texts(config, plan, sources)
    return sources, plan


def _checkpoint(cancel: Callable[[], bool] | None) -> Callable[[], None] | None:
    """What raises `Cancelled` once `cancel()` says stop."""
    if cancel is None:
        return None

    def checkpoint() -> None:
        if cancel():
            raise Cancelled()
    return checkpoint


def _stoppable(results: Iterator, stop: Callable[[], None] | None) -> Iterator:
    """`results`, with `stop()` asked after every 64; its workers end as soon as it raises."""
    try:
        for count, result in enumerate(results, 1):
            yield result
            if count % 64 == 0 and stop is not None:
                stop()
    finally:
        results.close()


def _stoppable_read(read: reader.Read, stop: Callable[[], None] | None) -> reader.Read:
    """`read`, with `stop()` asked before every 64th source."""
    if stop is None:
        return read
    count = itertools.count(1)

    def checked(*args):
        if next(count) % 64 == 0:
            stop()
        return read(*args)
    return checked


def _require_released(sources: Sources, plan, problems: Problems, unseal: bool, moment: dt.datetime) -> None:
    for speech_id, lang in plan.unreleased:
        speech = next(s for s in sources.speeches if s.id == speech_id)
        if not unseal and (opens := speech.opens(lang)) is not None and opens > moment:
            continue                   # not published before its embargo's moment
        version = speech.versions[lang]
        pending = plan.pending[(speech_id, lang)]
        problems.add(version.source, 1, f"edition {pending.number} is not released (--require-released): "
                     "run `speechgen release` and commit editions.txt and editions/")


def _said(config: Config, media: preflight.Media) -> list[str]:
    """What every build of this project says once (and a replay of it says again)."""
    said: list[str] = []
    if (words := site_words(config.words).warning(config.site.languages)) is not None:
        said.append(f"warning: {words}")
    if config.signing.certificate and media.signer is None:
        said.append(f"unsigned: {signing_env()} is not set, so the manifest carries no signature")
    elif media.signer is not None and not config.signing.timestamp_url and not signing.is_sample(media.certificate):
        # (a SAMPLE certificate proves nothing to anyone: no word about its time)
        said.append("warning: [signing] timestamp_url is not set: signatures cannot prove their time (tanpa cap "
                    "waktu, waktu tanda tangan tidak terbukti); the manifest's is judged at the present time")
    return said


def _make(config: Config, o: BuildOptions, store: Cache, planned: _Planned, moment: dt.datetime):
    """Every output, stage after stage, into the writer; committed. (summary, the writer's report, stages)"""
    site, out = planned.site, o.out
    private = None if o.write else Path(tempfile.mkdtemp(prefix="speechgen-check-"))
    try:
        target = out if o.write else private / "site"
        with SiteWriter(target, config.root if o.write else private, wait=o.notice,
                        stamps=memo.output_stamps(store, target)) as writer:
            stages = Stages(site, planned.templates, planned.media,
                            memo.Memo(store, writer, config.root, deps.Resolver(site, {}),
                                      memo.index_key(target) if o.write else ""), o.log, o.jobs,
                            defer=o.defer_pdfs, cancel=o.cancel)
            if o.writing is not None:      # the preview serves each output from here as soon as it is written
                writer.served = True     # so each is renamed into place whole
                o.writing(writer)
            pdfs = stages.books(o.progress) if site.options.pdf else _released_books(site)
            stages.pages(pdfs)
            # The search index is made beside the previews and static files, one shard at a time
            # (one indexer's memory), and is in before the card sheets' workers start.
            with stages.indexing(site.options.search) as indexing:
                stages.files()              # first: the pages just written need their stylesheet
                stages.previews(beside_indexer=indexing.running)
                indexing.finish()
            stages.copies()
            _manifest(config, o, planned, pdfs, writer)
            if o.inspect is not None:
                o.inspect(writer.tmp, site)
            written = writer.commit() if o.write else None
            if o.write and out is not None:
                stages.private.commit(graph.private_folder(out))
            if written is not None and not written.unchanged:
                memo.keep_output_stamps(store, target, writer.stamps)
            if written is not None:
                stages.memo.keep_index()
            files = len(writer.files)
            size = sum(s for _, s in writer.files.values())
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    if written is not None:
        o.log(f"{out} already holds these {files} files: left as it was" if written.unchanged
              else f"wrote {files} files ({size:,} bytes) to {out}")
    plan, sources = planned.plan, planned.sources
    summary = dict(speeches=len(site.speeches), pages=len(site.pages), files=files, bytes=size,
                   copies=len(site.copies) if config.qr.enabled else 0,
                   unreleased=tuple(plan.unreleased), drafts=tuple(sources.drafts), proofs=cards.proofs(site),
                   embargoed=tuple((e.speech, e.lang, e.opens.isoformat()) for e in site.embargoes),
                   embargo_passed=_embargo_passed(sources.speeches, moment, config))
    return summary, written, stages


def _manifest(config: Config, o: BuildOptions, planned: _Planned, pdfs: PdfMap, writer: SiteWriter) -> None:
    """The manifest, its certificate and signature, and the PDFs' checksums."""
    site, media, out = planned.site, planned.media, o.out
    listed = manifest.render_manifest(site, pdfs, signing.certificate_history(
        signing.read_statements(config.root)) if site.certificate else ())
    writer.write(site.manifest_dest, listed)
    if media.certificate:
        writer.write(site.certificate_dest, signing.pem(media.certificate))
    if media.signer is not None:
        stamped = o.write and not o.preview and out is not None     # `check` and `serve` ask no TSA
        writer.write(site.manifest_signature_dest, signing.sign_manifest(
            listed, media.signer, timestamp_url=config.signing.timestamp_url if stamped else "",
            previous=signing.read_previous(out / site.manifest_signature_dest) if stamped else None,
            renewals=signing.read_statements(config.root)))
    if site.outputs_of("checksums"):
        public = {(s.id, lang) for s in site.speeches for lang in s.versions}
        kept = [PdfInfo(e.dest, e.sha256, e.pages, e.bytes)
                for ident, every in planned.plan.released.items() if ident in public for e in every]
        writer.write(site.checksums_dest, sha256sums([*pdfs.values(), *kept]))


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


def _check_glyphs(site: Site, media: preflight.Media, fonts: tuple[str, ...], problems: Problems,
                  store: Cache) -> None:
    """The glyph check of what PDFs and cards will print, remembered per text and fonts (`fonts`:
    the project's fonts by their bytes)."""
    versions = [v for s in site.speeches for v in s.versions.values()] if site.options.pdf else []
    chosen = list(site.recipients) if site.config.qr.enabled and site.options.cards and site.copies else []
    todo, passed = memo.known_glyphs(store, versions, fonts)
    if not todo and not chosen:
        return
    have = memo.coverage(store, media.fonts, fonts)
    before = len(problems.items)
    preflight.check_glyphs(todo, chosen, media, problems, site.config.recipients_file, have)
    if len(problems.items) == before:
        passed()


def _raise_sources(problems: Problems) -> None:
    """Stop at problems of the sources; the config's own are said with the site's, later."""
    if any(p.path != CONFIG_NAME for p in problems.items):
        _raise(problems)


def _raise(problems: Problems) -> None:
    """A ConfigError when speechgen.toml alone is at fault, a SourceError otherwise."""
    only_config = all(p.path == CONFIG_NAME for p in problems.items)
    problems.raise_if_any(ConfigError if only_config else SourceError)


