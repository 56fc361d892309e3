"""The build's stages, one per kind of output in `Site.outputs`: each hands the memo (`memo.py`) the
graph's output, which says what it is made of, with what the stage derives once other outputs exist,
and either gets it back or calls its pure renderer and hands the bytes to the writer (and the memo,
to keep). `build.py` calls them in order."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from speechgen import deps, preflight
from speechgen.errors import OutputError, Problems, SourceError
from speechgen.graph import Site, cards_output
from speechgen.indexing import Indexing, search_plan
from speechgen.memo import Memo, card_pdf_key, globals_key, output_key, portable
from speechgen.model import PdfInfo
from speechgen.render import cards, html, pdf, preview
from speechgen.render.qr import QrMaker, pack, unpack
from speechgen.templates import Templates, format_date
from speechgen.workers import cores, forked, pooled_map
from speechgen.workers import pool as workers_pool

Log = Callable[[str], None]
PdfMap = dict[tuple[str, str], PdfInfo]
BOOKS_PER_BATCH = 100           # books whose HTML is made and held at once
PAGES_PER_WINDOW = 512           # pages asked of the workers at once (their bytes wait here)
POOL_MIN_PAGES = 200             # fewer pages than this render faster here than in a pool
_POOLED: tuple | None = None     # what forked page workers render from (set just before the fork)


class Cancelled(Exception):
    """`cancel()` said stop (the preview saw a new edit): the output is left as it was."""


class Private:
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


# Jobs for the link previews while Pagefind indexes beside them: one, this process. Two workers took
# the build's tree past the 300 MiB target (362 MiB of Pss: a fork server and two workers beside
# Pagefind's 179 MiB, against 287 MiB) and the cores from the indexer, whose chain of Pagefind runs
# is what a cold build waits for last: 1,000 speeches took 21.7-22.3 s against 20.0-22.9 s here
# (docs/benchmarks.md).
PREVIEWS_BESIDE_INDEXER = 1


class Stages:
    """One build's rendering: each stage makes its outputs, reusing what the memo proves unchanged."""

    def __init__(self, site: Site, templates: Templates, media: preflight.Media, memo: Memo, log: Log,
                 jobs: int | None = None, *, defer: bool = False, cancel: Callable[[], bool] | None = None) -> None:
        self.site = site
        self.jobs = jobs
        self.templates = templates
        self.media = media
        self.fonts = site.materials.fonts     # the project's fonts by their bytes (`memo.materials`)
        self.memo = memo
        self.writer = memo.writer
        self.log = log
        self.defer = defer               # books not in the cache are left for a later build
        self.deferred = 0
        self.cancel = cancel
        self.private = Private()         # embargoed speeches' card sheets: beside the output
        # The config names the project's fonts; their bytes are what a book is drawn with.
        self.globals = globals_key(templates.digest, site.config, self.fonts)

    def checkpoint(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled()

    def books(self, progress) -> PdfMap:
        site = self.site
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
                # what the book's template gets, as the renderer makes it from the graph's inputs
                context = pdf.book_context(site, speech, version, self.media.emblem, pending)
                static = output_key(site.output(dest), deps.shallow(dict(context, config=None)),   # config: in globals
                                    globals_=self.globals)
                record = self.memo.reused(static, dest)
                if record is not None:
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
            self._book_batch(misses[start:start + BOOKS_PER_BATCH], start, len(misses), progress, done, problems)
        problems.raise_if_any(SourceError)
        self.memo.resolver = deps.Resolver(site, done)       # pages read the PDFs' facts
        return done

    def _book_batch(self, misses: list, start: int, total: int, progress, done: PdfMap,
                    problems: Problems) -> None:
        site, plan = self.site, self.site.editions
        batch = {}
        for speech, version, dest, static in misses:
            context = pdf.book_context(site, speech, version, self.media.emblem, plan.pending_of(speech, version.lang))
            with deps.recording() as tokens:
                job = pdf.make_job(site, self.templates.env, speech, version, context, self.templates.print_css)
            batch[dest] = (job, static, set(tokens), (speech.id, version.lang), version.source)
        self.checkpoint()

        def counted(done_here: int, _total: int) -> None:
            if progress and done_here:
                progress(start + done_here, total)
        for dest, outcome in pdf.render_books([(d, b[0]) for d, b in batch.items()], self.jobs, counted,
                                              stop=self.cancel):
            _, static, tokens, ident, source = batch[dest]
            if isinstance(outcome, str):
                problems.add(source, None, f"cannot make the PDF: {outcome}")
                continue
            data, pages, read = outcome
            record = self.memo.keep(static, dest, data, tokens, pages=pages,
                                    files={portable(p, site.config.root): sha for p, sha in read})
            done[ident] = PdfInfo(dest, record["sha256"], pages, len(data))
        self.checkpoint()            # render_books ends early when cancelled: stop here

    def pages(self, pdfs: PdfMap) -> None:
        site = self.site
        misses = []
        for page in site.pages:
            # with what the renderer derives from the page and the PDFs' facts (known after the books)
            static = output_key(site.output(page.dest), deps.shallow(html.page_context(site, page, pdfs, recipe=True)),
                                globals_=self.globals)
            if self.memo.reused(static, page.dest) is None:
                misses.append((page, static))     # its context is made again when it renders: not held
        problems = Problems(site.config.root)
        made_all = _render_pages(self.templates.env, site, pdfs, misses, self.jobs)
        for count, ((page, static), made) in enumerate(zip(misses, made_all)):
            if count % 64 == 63:
                self.checkpoint()        # the preview stopped or edited again: not the whole stage first
            if isinstance(made, SourceError):
                problems.extend(made.problems)
            else:
                data, tokens = made
                self.memo.keep(static, page.dest, data, tokens, inline=True)
        problems.raise_if_any(SourceError)
        self.log(f"pages: {len(site.pages)}, {len(misses)} rendered")

    def previews(self, beside_indexer: bool = False) -> None:
        """Each speech page's link preview image, and the favicon: kept by their whole input.
        `beside_indexer`: the search indexer's Pagefind runs beside them; they are then drawn in
        this process, one core, the indexer's Pagefind on the other (`PREVIEWS_BESIDE_INDEXER`)."""
        site, media = self.site, self.media
        image = media.logo or media.emblem_image
        emblem = image.png if image is not None else b""
        todo = []
        for speech in site.speeches:
            for lang, version in speech.versions.items():
                values = (version.title, version.speaker, format_date(version.date, lang), site.config.site.title)
                dest = site.preview_dest(speech, lang)
                entry = output_key(site.output(dest), values[2])    # the date as Babel's data words it
                # linked from the previous output by its SHA-256, else written from its record
                if self.memo.reused(entry, dest) is None:
                    todo.append((entry, dest, (*values, emblem, tuple(media.fonts))))
        drawn = pooled_map(_draw_preview, [v for _, _, v in todo],
                           PREVIEWS_BESIDE_INDEXER if beside_indexer else self.jobs)
        for count, ((entry, dest, _), data) in enumerate(zip(todo, drawn)):
            if count % 64 == 63:
                self.checkpoint()
            # its bytes in its record (about 30 KB), as a page's: one cache entry, not a record and
            # a blob (creating a file was 0.4-0.8 ms of the last chain of a cold build, 1,500 times)
            self.memo.keep(entry, dest, data, (), inline=True)
        if site.favicon:
            self.writer.write(site.favicon_dest, preview.favicon_png(emblem or None, site.config.site.title))
        if todo:
            self.log(f"previews: {len(todo)} drawn")

    def files(self) -> None:
        """Theme assets and static files, copied as they are (linked when unchanged)."""
        for output in self.site.outputs_of("file") + self.site.outputs_of("edition"):
            assert output.source is not None
            self.memo.copied(output.dest, output.source)

    def indexing(self, wanted: bool) -> Indexing:
        """The Pagefind index of the public speech pages, from the pages as written (`indexing.py`)."""
        self.checkpoint()
        return Indexing(self, search_plan(self.memo, self.site) if wanted else None)

    def copies(self) -> None:
        """QR codes of every copy; per speech the mailroom list and the card sheet."""
        site = self.site
        config = site.config
        if not config.qr.enabled or not site.copies:
            return
        layout = cards.LAYOUTS[config.qr.card_size]
        maker = QrMaker(layout.qr_mm, config.qr.error_correction, self.media.logo)
        codes = self._qr_codes(maker)
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
        for speech, chosen, proof, fingerprint, edition in sheets:
            sink = self.private if site.is_sealed(speech) else self.writer    # never in the output before its moment
            sink.write(site.cards_dest(speech, "csv"), cards.mailroom_csv(site, chosen, fingerprint, proof=proof))
            if site.options.cards:
                self.checkpoint()
                self._card_sheet(sink, speech, chosen, proof, fingerprint, edition, codes, layout, maker)

    def _qr_codes(self, maker: QrMaker) -> dict:
        """Every copy's QR code, kept by its recipe and URL; written as PNG and SVG."""
        site, memo = self.site, self.memo
        codes = {}
        entries = {}                 # a code's PNG and SVG are drawn together: kept as the PNG's output
        for copy in site.copies:
            url = site.url(site.copy_dest(copy))
            entries[url] = output_key(site.output(site.qr_dest(copy, "png")), maker.recipe)
            raw = memo.get("qr", entries[url])
            try:
                codes[url] = unpack(url, raw) if raw is not None else None
            except (ValueError, KeyError, TypeError):
                codes[url] = None
        missing = [u for u, c in codes.items() if c is None]
        for url, code in maker.make_all(missing).items():
            codes[url] = code
            memo.put("qr", entries[url], pack(code), made=True)
        self.log(f"QR codes: {len(missing)} drawn, {len(codes) - len(missing)} kept")
        for copy in site.copies:
            url = site.url(site.copy_dest(copy))
            code = codes[url]
            self.writer.write(site.qr_dest(copy, "png"), code.png)
            self.writer.write(site.qr_dest(copy, "svg"), code.svg)
            codes[url] = dataclasses.replace(code, png=b"", svg=b"")    # the sheet needs the modules only
        return codes

    def _card_sheet(self, sink, speech, chosen, proof: bool, fingerprint: str, edition, codes, layout,
                    maker: QrMaker) -> None:
        """In parts of whole sheets, each laid out by a worker and kept by its HTML; joined into one
        file. A part's HTML is made again only when something it read changed (its record, as a
        page's): the PDF is then found by that HTML's key without laying the HTML out."""
        site, memo, media, fonts = self.site, self.memo, self.media, self.fonts

        def sheet_html(number: int, part) -> str:
            return cards.card_sheet_html(self.templates.env, site, speech, part, codes, layout, fingerprint,
                                         media.logo, media.card_emblem, edition=edition, proof=proof,
                                         fonts=media.fonts, cover=number == 0)

        parts = cards.parts(chosen, layout)
        htmls: list[str | None] = []
        entries = []
        # an embargoed speech's sheet is in no public inventory: the graph says what it is made of all the same
        output = cards_output(site, speech, "pdf") if site.is_sealed(speech) else site.output(site.cards_dest(speech))
        for number, part in enumerate(parts):
            static = output_key(output, str(number), maker.recipe, *(c.printed if c else "-" for c in part),
                                globals_=self.globals)       # (the layout: the card size, in `made_of`)
            record = memo.recall(static)
            if record is not None and isinstance(record.get("html"), str):
                htmls.append(None)
                entries.append(record["html"])
                continue
            with deps.recording() as tokens:
                made = sheet_html(number, part)
            entry = card_pdf_key(made, fonts)
            memo.keep_reads(static, tokens, html=entry)
            htmls.append(made)
            entries.append(entry)
        found = [memo.get("cards", entry) for entry in entries]
        todo = [n for n, data in enumerate(found) if data is None or not data.startswith(b"%PDF-")]
        for n in todo:               # a part whose PDF left the cache: its HTML again
            if htmls[n] is None:
                htmls[n] = sheet_html(n, parts[n])
        made_pdfs = cards.sheet_pdfs(site, speech, [htmls[n] for n in todo], [len(parts[n]) for n in todo],
                                     self.jobs, stop=self.cancel)
        self.checkpoint()            # the sheets' workers stop when cancelled: stop here
        for n, data in zip(todo, made_pdfs):
            found[n] = data
            memo.put("cards", entries[n], data, made=True)
        sink.write(site.cards_dest(speech, "pdf"), pdf.join(found))
        self.log(f"card sheet {site.cards_dest(speech, 'pdf')}: {len(todo)} of {len(parts)} parts laid out"
                 + ("; a PROOF: no released edition yet" if proof else ""))


def _render_pages(env, site: Site, pdfs: PdfMap, misses: list, jobs: int | None) -> Iterator:
    """Each page's (bytes, what it read), or its SourceError, in order and one at a time (the
    caller writes each before the next arrives); in forked workers when there are many, since
    templates are CPU work in pure Python and a machine has more than one core."""
    global _POOLED
    workers = min(jobs or cores(), len(misses) // (POOL_MIN_PAGES // 2))
    fork = forked() if workers >= 2 and len(misses) >= POOL_MIN_PAGES else None
    if fork is None:
        yield from (_render_one(env, site, pdfs, page) for page, _ in misses)
        return
    _POOLED = (env, site, pdfs, [page for page, _ in misses])
    try:
        with workers_pool(fork, workers) as pool:
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
