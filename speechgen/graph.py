"""The one place that decides URLs and output paths: the inventory of every output file.

`make_site` lists every file a build will write (pages, feeds, sitemap, robots, theme assets,
static files, PDFs, QR images, card sheets, mailroom lists, manifest, checksums, search index),
each with its destination, and refuses two outputs on one path before anything is rendered.
Templates, renderers, manifest, verify and check ask the `Site` for paths; no other module spells one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import posixpath
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from speechgen.config import Config
from speechgen.editions import Editions, kept_name
from speechgen.errors import Problems, SourceError
from speechgen.markdown import slugify
from speechgen.reader import reserved_name
from speechgen.model import Blocks, Edition, PdfInfo, Recipient, Sources, Speech, Version

THEME_ASSETS = Path(__file__).parent / "theme" / "assets"

# Every fixed path of the output, and the folders the graph gives out.
HOME = "index.html"
NOT_FOUND = "404.html"
SEARCH_PAGE = "cari/index.html"
ACCESSIBILITY_PAGE = "aksesibilitas/index.html"
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.json.p7s"    # the publisher's detached CMS signature of the manifest
CERTIFICATE = "publisher.pem"              # the publisher's public certificate, to pin
CHECKSUMS = "SHA256SUMS"
SEARCH_BUNDLE = "pagefind"                 # a folder: the search index's own files
SEARCH_RECENT = f"{SEARCH_BUNDLE}/recent"   # pages changed since their shard was indexed
SEARCH_RECENT_LIST = f"{SEARCH_BUNDLE}/recent.json"   # that bundle's languages, and what it replaces
SEARCH_ENGINE = f"{SEARCH_BUNDLE}/pagefind.js.gz"     # Pagefind's script (the same in every bundle), gzip-compressed
ASSETS = "_assets"
FEEDS = "feeds"
COPY_FOLDER = "salinan"                    # <year>/<slug>/salinan/<recipient>/: "copy for"
SIDE_BY_SIDE_FOLDER = "berdampingan"       # <year>/<slug>/berdampingan/: all languages, paragraph by paragraph
ARCHIVE_FOLDERS = {"year": "tahun", "speaker": "pembicara", "occasion": "acara"}
# EDITION_WORD (editions.py): <slug>.<lang>.edisi-<n>.pdf, one edition's bytes, for good
CHANGES_FOLDER = "perubahan"               # <speech page>/perubahan/<n>/: what edition n changed
PREVIEW = "pratinjau.png"                  # <speech page folder>/pratinjau.png: its link preview image
FAVICON = "favicon.png"                    # at the root: the emblem (or QR logo), small


@dataclass(frozen=True)
class Archive:
    """A listing of speeches: by year, by speaker or by occasion."""

    kind: str                    # "year" | "speaker" | "occasion"
    key: str                     # the year, or the speaker's / occasion's name
    dest: str
    speeches: tuple[Speech, ...]


@dataclass(frozen=True)
class Copy:
    """One recipient institution's copy of one speech."""

    speech: Speech
    recipient: Recipient
    number: int                  # serial on the card: 1..total
    total: int

    @property
    def serial(self) -> str:
        """'007/150', '0007/1000': number and total zero-padded to the total's width, at least
        three digits; the one form the card, the copy page and the mailroom list print."""
        width = max(3, len(str(self.total)))
        return f"{self.number:0{width}d}/{self.total:0{width}d}"

    @property
    def printed(self) -> str:
        """What its card and its mailroom line are made of, as a cache key takes it: its number, the
        total and every field of its recipient."""
        return f"{self.number}/{self.total}/{self.recipient!r}"


@dataclass(frozen=True)
class Page:
    """An output made from a template: HTML pages, feeds, sitemap, robots.txt."""

    dest: str
    template: str
    kind: str
    lang: str
    title: str
    speech: Speech | None = None
    version: Version | None = None
    archive: Archive | None = None
    copy: Copy | None = None
    indexed: bool = True         # listed in sitemap and search
    listing: tuple[Speech, ...] = ()     # the speeches a listing page shows (bounded)
    entries: tuple[Archive, ...] = ()    # the archives an index page shows (bounded)
    part: int = 1                # this page's number among the pages of one listing
    parts: int = 1
    previous: str = ""           # dest of the listing's previous and next page
    following: str = ""
    edition: int = 0             # a changes page: the edition whose changes it shows
    target: str = ""             # a redirect page: the dest it sends readers to
    recipient: Recipient | None = None   # an embargoed speech's copy URL: whom the placeholder names
    opens: dt.datetime | None = None     # that placeholder's opening moment; in a preview that shows
                                         # embargoed speeches (`unseal`), the moment their pages await


@dataclass(frozen=True)
class Output:
    """One entry of the inventory: a file (or, for `search`, a folder) the build writes, and what
    it is made of as far as the graph knows before anything is rendered."""

    dest: str
    kind: str                    # page | file | pdf | edition | preview | favicon | qr | cards | mailroom | manifest | signature | certificate | checksums | search
    owner: str                   # who claims the path, for messages
    source: Path | None = None   # kinds "file" and "edition": copied as it is, never read into memory
    # What it is made of: model objects (a page's Page, a book's Version and pending edition, a
    # mailroom list's copies), texts, and the bytes of files by their digests (`Materials`, a
    # released edition's and the certificate's SHA-256), never a path alone. The memo turns this,
    # what its stage derives once other outputs exist (a page's PDF facts) and what its template
    # read into its key (`memo.output_key`). A static file is its source's bytes, which the memo
    # knows by their SHA-256 (remembered by the file's stamps); the manifest, checksums, signature
    # and search index are made of other outputs' bytes as written.
    made_of: tuple = ()


@dataclass(frozen=True)
class Materials:
    """The files the config names, by their bytes: what the graph says outputs are drawn with."""

    fonts: tuple[str, ...] = ()  # [pdf] fonts, each file's SHA-256, in order
    emblem: str = ""             # [pdf] emblem, the books' cover: its bytes' SHA-256
    picture: str = ""            # what link previews, the favicon and card sheets show: the [qr]
                                 # logo, else the emblem (the image as re-encoded, by its SHA-256)
    logo: str = ""               # [qr] logo, laid over every QR code


@dataclass(frozen=True)
class SearchShard:
    """One part of the search index: its own Pagefind bundle, merged with the others at query
    time. A page changed since its shard was indexed is indexed again in the small "recent"
    bundle, which the reader merges too and whose list hides the shard's old entry."""

    dest: str                    # the bundle's folder, e.g. "pagefind/3"
    pages: tuple[str, ...]       # output paths of the pages it indexes
    languages: tuple[str, ...]   # the languages among them


@dataclass(frozen=True)
class Options:
    """What this build makes besides the pages."""

    pdf: bool = True
    cards: bool = True           # card sheet PDFs (QR codes and mailroom lists follow [qr] enabled)
    search: bool = True
    signed: bool = False         # a signing key is at hand: the manifest gets its signature


def reads(*attributes: str):
    """Marks a Site method with the Site fields its answer depends on (besides the config), so a
    page that calls it from a template depends on exactly those."""
    def mark(method):
        method.reads = attributes
        return method
    return mark


@dataclass(frozen=True)
class Site:
    config: Config
    speeches: tuple[Speech, ...]
    recipients: tuple[Recipient, ...]
    pages: tuple[Page, ...]
    years: tuple[Archive, ...]
    speakers: tuple[Archive, ...]
    occasions: tuple[Archive, ...]
    copies: tuple[Copy, ...] = ()
    outputs: tuple[Output, ...] = ()
    options: Options = Options()
    search_shards: tuple[SearchShard, ...] = ()
    editions: Editions | None = None
    certificate: str = ""        # the publisher's certificate's SHA-256 (hex), if [signing] names one
    favicon: bool = True         # the site has a favicon (drawn from the emblem or logo, else the title)
    # Embargoed speeches (`embargo:` later than the build's moment): in no public output; their
    # copies' URLs answer with a placeholder, their card sheets go to the private folder.
    sealed: tuple[Speech, ...] = ()
    embargoes: tuple[Embargo, ...] = ()     # every language version held back, with its moment
    materials: Materials = Materials()      # the config's fonts and images, by their bytes

    # --- paths: every other stage asks these -------------------------------------------------
    home_dest = HOME
    search_dest = SEARCH_PAGE
    accessibility_dest = ACCESSIBILITY_PAGE
    sitemap_dest = SITEMAP
    manifest_dest = MANIFEST
    manifest_signature_dest = MANIFEST_SIGNATURE
    favicon_dest = FAVICON
    certificate_dest = CERTIFICATE
    checksums_dest = CHECKSUMS
    search_bundle = SEARCH_BUNDLE
    search_recent_dest = SEARCH_RECENT
    search_recent_list_dest = SEARCH_RECENT_LIST
    search_engine_dest = SEARCH_ENGINE

    def speech_dest(self, speech: Speech, lang: str) -> str:
        return speech_dest(speech, lang, self.config.site.default_language)

    def pdf_dest(self, speech: Speech, lang: str) -> str:
        """The latest edition: released or not, always here."""
        return f"{speech.year}/{speech.slug}/{speech.slug}.{lang}.pdf"

    def edition_dest(self, speech: Speech, lang: str, number: int) -> str:
        return edition_dest(speech.id, lang, number)

    def preview_dest(self, speech: Speech, lang: str) -> str:
        return posixpath.join(posixpath.dirname(self.speech_dest(speech, lang)), PREVIEW)

    def changes_dest(self, speech: Speech, lang: str, number: int) -> str:
        return changes_dest(speech, lang, number, self.config.site.default_language)

    def copy_dest(self, copy: Copy) -> str:
        return copy_dest(copy)

    def qr_dest(self, copy: Copy, ext: str) -> str:
        return posixpath.join(posixpath.dirname(copy_dest(copy)), f"qr.{ext}")

    def side_by_side_dest(self, speech: Speech) -> str:
        return f"{speech.year}/{speech.slug}/{SIDE_BY_SIDE_FOLDER}/index.html"

    def cards_dest(self, speech: Speech, ext: str = "pdf") -> str:
        """In the output; an embargoed speech's in the private folder (`private_folder`), there."""
        return f"{speech.year}/{speech.slug}/kartu-qr.{ext}"

    def is_sealed(self, speech: Speech) -> bool:
        return any(s.id == speech.id for s in self.sealed)

    def feed_dest(self, lang: str) -> str:
        return f"{FEEDS}/{lang}.xml"

    def asset_dest(self, name: str) -> str:
        dest = f"{ASSETS}/{name}"
        if not (THEME_ASSETS / name).is_file():
            raise KeyError(f"no theme asset {name!r}")
        return dest

    def archive_index_dest(self, kind: str) -> str:
        """The first page of the index of every year, speaker or occasion."""
        return f"{ARCHIVE_FOLDERS[kind]}/{INDEX}"

    def url(self, dest: str) -> str:
        """Absolute public URL of an output path (folders end in '/')."""
        return self.config.site.base_url + pretty(dest)

    @reads("years", "speakers", "occasions")
    def archive(self, kind: str, key: str) -> Archive:
        listing = {"year": self.years, "speaker": self.speakers, "occasion": self.occasions}[kind]
        return next(a for a in listing if a.key == key)

    @reads("editions")
    def every_edition(self, speech: Speech, lang: str, pdf: PdfInfo | None) -> tuple[Edition, ...]:
        """Every edition of a speech in one language, oldest first: the released ones, then the one
        its text will be if it is not released as it is, with the PDF the build made of it (`pdf`)
        or, in a build without PDFs, with none (no bytes, no fingerprint, no URL)."""
        if self.editions is None:
            return ()
        released = self.editions.of(speech, lang)
        pending = self.editions.pending_of(speech, lang)
        if pending is None:
            return released
        version = speech.versions[lang]
        made = (pdf.sha256, pdf.bytes, pdf.pages, pdf.dest) if pdf is not None else ("", 0, 0, "")
        return released + (Edition(pending.number, pending.date, *made, released=False, notes=pending.notes,
                                   text_sha=version.text_sha, source_sha=version.source_sha),)

    @reads("editions")
    def text_of(self, edition: Edition) -> Blocks:
        """An edition's text as a changes page compares it (`editions.load_texts`)."""
        assert self.editions is not None
        return self.editions.compared[edition.source_sha]

    @reads("copies")
    def copies_of(self, speech: Speech) -> tuple[Copy, ...]:
        return tuple(c for c in self.copies if c.speech.id == speech.id)

    def outputs_of(self, kind: str) -> tuple[Output, ...]:
        return tuple(o for o in self.outputs if o.kind == kind)

    def output(self, dest: str) -> Output:
        """The inventory's entry for `dest`."""
        return self._by_dest[dest]

    @functools.cached_property
    def _by_dest(self) -> dict[str, Output]:
        return {o.dest: o for o in self.outputs}


@dataclass(frozen=True)
class Embargo:
    """A language version held back by `embargo:` until `opens`."""

    speech: str                  # the speech's id
    lang: str
    opens: dt.datetime
    whole: bool                  # the whole speech (its first language) is held back


PRIVATE_SUFFIX = "-embargo"      # <output>-embargo/: what an embargoed speech's office needs, never published


def private_folder(out: Path) -> Path:
    """Beside the output, never inside it: the card sheets and mailroom lists of embargoed
    speeches (they print the title), to print and post before the moment."""
    return out.with_name(out.name + PRIVATE_SUFFIX)


def speech_dest(speech: Speech, lang: str, default_language: str) -> str:
    # Depends on the language alone, so adding a translation later never moves a printed URL.
    if lang == default_language:
        return f"{speech.year}/{speech.slug}/index.html"
    return f"{speech.year}/{speech.slug}/{lang}/index.html"


def edition_dest(speech_id: str, lang: str, number: int) -> str:
    # A released edition's own URL never moves: it is served where the ledger keeps it under
    # editions/ (`editions.kept_name`); the latest is also at Site.pdf_dest.
    return kept_name(speech_id, lang, number)


def changes_dest(speech: Speech, lang: str, number: int, default_language: str) -> str:
    folder = posixpath.dirname(speech_dest(speech, lang, default_language))
    return f"{folder}/{CHANGES_FOLDER}/{number}/index.html"


def copy_dest(copy: Copy) -> str:
    # Printed on cards and mailed: must never move, so it depends on year, slug and id alone.
    return f"{copy.speech.year}/{copy.speech.slug}/{COPY_FOLDER}/{copy.recipient.id}/index.html"


INDEX = "index.html"           # the file a folder URL is served from


def file_of(url_path: str) -> str:
    """The output file a URL path names: a folder ('x/') is served from its index.html."""
    return posixpath.join(url_path, INDEX) if url_path.endswith("/") or not url_path else url_path


def pretty(dest: str) -> str:
    """'2025/x/index.html' -> '2025/x/' for public URLs."""
    if dest == "index.html":
        return ""
    return dest[: -len("index.html")] if dest.endswith("/index.html") else dest


def relative(from_dest: str, to_dest: str) -> str:
    """A link from one output file to another that works on any host, sub-path, or from disk."""
    target, _, anchor = to_dest.partition("#")
    rel = posixpath.relpath(target, posixpath.dirname(from_dest) or ".")
    return rel + (f"#{anchor}" if anchor else "")


def root_prefix(from_dest: str) -> str:
    """'2025/x/index.html' -> '../../': the way from an output file back to the site's root."""
    depth = from_dest.count("/")
    return "../" * depth if depth else "./"


def make_site(config: Config, sources: Sources, options: Options = Options(),
              editions: Editions | None = None, certificate: str = "", favicon: bool = True,
              at: dt.datetime | None = None, unseal: bool = False,
              kept_embargo: Callable[[Edition], dt.datetime | None] | None = None,
              materials: Materials = Materials()) -> Site:
    """`at`: the moment the site is built as of (default: now); an embargoed language version is
    left out until then, a speech whose first language is embargoed altogether. `unseal` (the
    preview, `release`) keeps every speech, its held pages marked with their moment.
    `kept_embargo(edition)` is the `embargo:` its kept source was released with. `materials`: the
    config's fonts and images by their bytes, which the outputs drawn with them say they are made of."""
    default = config.site.default_language
    at = at if at is not None else dt.datetime.now(dt.timezone.utc)
    if editions is not None:
        _check_embargoes(sources.speeches, editions, config, at, kept_embargo)
    speeches, sealed, embargoes = _as_of(sources.speeches, at, unseal)
    # A withdrawn speech keeps every page it had, listed nowhere: not on the home page, in an
    # archive, a feed, the sitemap or search (its own pages say noindex).
    listed = tuple(s for s in speeches if s.listed)
    pages: list[Page] = []
    for speech in speeches:
        for lang, version in speech.versions.items():
            held = held_until(embargoes, speech, lang)
            pages.append(Page(speech_dest(speech, lang, default), "speech.html", "speech", lang,
                              version.title, speech=speech, version=version, indexed=speech.listed,
                              opens=held))
            for number in range(2, _edition_count(editions, speech, lang) + 1):
                pages.append(Page(changes_dest(speech, lang, number, default), "changes.html", "changes", lang,
                                  version.title, speech=speech, version=version, indexed=False,
                                  edition=number, opens=held))
        if len(speech.versions) > 1:   # the same text again: kept out of sitemap and search
            pages.append(Page(f"{speech.year}/{speech.slug}/{SIDE_BY_SIDE_FOLDER}/index.html",
                              "side-by-side.html", "side-by-side", speech.primary.lang,
                              speech.primary.title, speech=speech, version=speech.primary, indexed=False,
                              opens=held_until(embargoes, speech, None)))

    folders = ARCHIVE_FOLDERS
    years = _group(listed, "year", lambda s: s.year, lambda k: f"{folders['year']}/{k}/index.html")
    speakers = _group(listed, "speaker", lambda s: s.speaker, _slug_dest(folders["speaker"]))
    occasions = _group([s for s in listed if s.occasion], "occasion",
                       lambda s: s.occasion, _slug_dest(folders["occasion"]))
    # Every listing is bounded: a page never grows with the archive, more of it gets more pages.
    for archive in years + speakers + occasions:
        for part, (dest, chunk, previous, following) in enumerate(_parts(archive.dest, archive.speeches), 1):
            pages.append(Page(dest, "archive.html", archive.kind, default, archive.key, archive=archive,
                              listing=chunk, part=part, parts=_count(archive.speeches),
                              previous=previous, following=following))
    for kind, archives in (("year", years), ("speaker", speakers), ("occasion", occasions)):
        first = f"{folders[kind]}/{INDEX}"
        for part, (dest, chunk, previous, following) in enumerate(_parts(first, archives), 1):
            pages.append(Page(dest, "archive-index.html", f"{kind}-index", default, kind, entries=chunk,
                              part=part, parts=_count(archives), previous=previous, following=following))
    pages.insert(0, Page(HOME, "home.html", "home", default, config.site.title,
                         listing=listed[:HOME_LATEST]))
    pages.append(Page(NOT_FOUND, "404.html", "404", default, "404", indexed=False))
    pages.append(Page(SEARCH_PAGE, "search.html", "search", default, "search"))
    pages.append(Page(ACCESSIBILITY_PAGE, "accessibility.html", "accessibility", default, "accessibility"))
    copies = tuple(c for s in speeches + sealed for c in _copies(s, sources.recipients))
    if config.qr.enabled:
        for c in copies:   # a recipient's own page: noindex, canonical is the public speech page
            if any(c.speech is s for s in sealed):   # printed and posted ahead: the URL answers, saying when
                moment = c.speech.opens(c.speech.primary.lang)
                for dest in (copy_dest(c), *(old_dest(c.speech, a, copy_dest(c)) for a in c.speech.aliases)):
                    pages.append(Page(dest, "embargo.html", "embargo", default, "", indexed=False,
                                      recipient=c.recipient, opens=moment))    # a card printed before a rename too
                continue
            pages.append(Page(copy_dest(c), "copy.html", "copy", c.speech.primary.lang, c.speech.primary.title,
                              speech=c.speech, version=c.speech.primary, copy=c, indexed=False,
                              opens=held_until(embargoes, c.speech, c.speech.primary.lang)))
    pages += _redirects(speeches, pages)     # public speeches only: a held one has no old URL answering yet
    for lang in config.site.languages:
        pages.append(Page(f"{FEEDS}/{lang}.xml", "feed.xml", "feed", lang, config.site.title, indexed=False))
    for dest, template, kind in ((SITEMAP, "sitemap.xml", "sitemap"), (ROBOTS, "robots.txt", "robots")):
        pages.append(Page(dest, template, kind, default, kind, indexed=False))

    if editions is not None:
        _check_withdrawn(sources.speeches, editions, config)
    shards = _search_shards(pages) if options.search else ()
    site = Site(config, speeches, sources.recipients, tuple(pages), years, speakers, occasions,
                copies=copies, options=options, search_shards=shards, editions=editions,
                certificate=certificate, favicon=favicon, sealed=sealed, embargoes=embargoes,
                materials=materials)
    held = _held_images(sources.speeches, speeches, embargoes, unseal) - {
        name.lstrip("/") for name in (config.pdf.emblem, config.qr.logo) if name}     # the site's own
    outputs = _inventory(site, sources, options, held)
    _check_claims(outputs, config)
    return dataclasses.replace(site, outputs=outputs)


def _held_images(every: tuple[Speech, ...], public: tuple[Speech, ...], embargoes: tuple[Embargo, ...],
                 unseal: bool) -> frozenset[str]:
    """The static files (`static/...`) that only held language versions show: held with them."""
    if unseal or not embargoes:
        return frozenset()
    held = {(e.speech, e.lang) for e in embargoes}
    shown = {src for s in public for v in s.versions.values() for src in v.images}
    return frozenset(src.lstrip("/") for s in every for lang, v in s.versions.items()
                     if (s.id, lang) in held for src in v.images if src not in shown)


def _as_of(speeches: tuple[Speech, ...], at: dt.datetime,
           unseal: bool) -> tuple[tuple[Speech, ...], tuple[Speech, ...], tuple[Embargo, ...]]:
    """The speeches public at `at` (each with its public language versions only), the speeches
    held back whole (their first language is embargoed), and every version held back. With
    `unseal`, every speech is public as it is (its held versions listed all the same)."""
    public: list[Speech] = []
    sealed: list[Speech] = []
    held: list[Embargo] = []
    for speech in speeches:
        waiting = {lang: moment for lang in speech.versions
                   if (moment := speech.opens(lang)) is not None and moment > at}
        whole = speech.primary.lang in waiting
        held += [Embargo(speech.id, lang, moment, whole) for lang, moment in waiting.items()]
        if unseal or not waiting:
            public.append(speech)
        elif whole:
            sealed.append(speech)
        else:
            public.append(dataclasses.replace(speech, versions={
                lang: v for lang, v in speech.versions.items() if lang not in waiting}))
    return tuple(public), tuple(sealed), tuple(held)


def held_until(embargoes: tuple[Embargo, ...], speech: Speech, lang: str | None) -> dt.datetime | None:
    """The moment a held language version (None: any of the speech's) opens, if it is held back;
    only a preview that shows embargoed speeches has pages of one."""
    found = [e.opens for e in embargoes if e.speech == speech.id and (lang is None or e.lang == lang)]
    return max(found) if found else None


def moments(speeches: tuple[Speech, ...]) -> list[dt.datetime]:
    """Every embargo moment of the speeches: between two of them, the site is one site."""
    return [m for s in speeches for lang in s.versions if (m := s.opens(lang)) is not None]


def _check_embargoes(speeches: tuple[Speech, ...], editions: Editions, config: Config, at: dt.datetime,
                     kept_embargo: Callable[[Edition], dt.datetime | None] | None) -> None:
    """An embargo cannot take back what is public: a language version released (in the ledger)
    without an embargo, or under an earlier one that has passed, has been in the published site."""
    problems = Problems(config.root)
    for speech in speeches:
        for lang in speech.versions:
            moment = speech.opens(lang)
            released = editions.of(speech, lang)
            if moment is None or not released:
                continue
            given = speech.embargo_source(lang)
            assert given is not None
            kept = [(e, kept_embargo(e) if kept_embargo is not None else moment) for e in released]
            if not any(k is not None for _, k in kept):
                other = [kept_embargo(e) for v in speech.versions if v != lang
                         for e in editions.of(speech, v)] if kept_embargo is not None else []
                kept = [(e, next((k for k in other if k is not None), None)) for e, _ in kept]
            for edition, before in kept:
                if before is None:
                    problems.add(given.source, given.embargo_line,
                                 f"embargo: {speech.id} ({lang}) edition {edition.number} was released on "
                                 f"{edition.date} without an embargo, so it is public in the published site; an "
                                 "embargo cannot take it back: remove `embargo:` (sudah terbit tanpa embargo)")
                    break
                if before < moment and before <= at:
                    problems.add(given.source, given.embargo_line,
                                 f"embargo: {speech.id} ({lang}) edition {edition.number} was released under "
                                 f"the embargo {before.isoformat()}, which has passed: it has been public since; "
                                 f"a later embargo cannot take it back: set it back to {before.isoformat()} "
                                 "or remove it (embargo sudah lewat; pidato sudah terbit)")
                    break
    problems.raise_if_any(SourceError)


def renamed(speech: Speech, alias: str) -> Speech:
    """The speech as it was under an old id (`aliases:`): where its old URLs are."""
    year, slug = alias.split("/")
    return dataclasses.replace(speech, year=year, slug=slug, aliases=())


def old_dest(speech: Speech, alias: str, dest: str) -> str:
    """A dest under a speech's folder, as it was under an old id: '2025/new/x' -> '2025/old/x'."""
    folder = f"{speech.year}/{speech.slug}/"
    assert dest.startswith(folder), dest
    return f"{alias}/{dest[len(folder):]}"


def _redirects(speeches: tuple[Speech, ...], pages: list[Page]) -> list[Page]:
    """A renamed speech's old URLs keep answering: each page it has (speech pages, changes
    pages, side by side, copies: a printed card's URL among them) gets a small redirect page at
    its old place. Its PDFs are served there as bytes (`_inventory`)."""
    moved = {s.id: s for s in speeches if s.aliases}
    found = []
    for page in pages:
        if page.speech is None or page.speech.id not in moved or page.kind not in REDIRECTED:
            continue
        for alias in page.speech.aliases:
            found.append(Page(old_dest(page.speech, alias, page.dest), "redirect.html", "redirect", page.lang,
                              page.title, indexed=False, target=page.dest))
    return found


REDIRECTED = ("speech", "changes", "side-by-side", "copy")


def _check_withdrawn(speeches: tuple[Speech, ...], editions: Editions, config: Config) -> None:
    """Only a released speech is withdrawn: one never released has no edition to keep, and is
    deleted or made a draft instead."""
    problems = Problems(config.root)
    for speech in speeches:
        if speech.withdrawn is not None and not any(editions.of(speech, lang) for lang in speech.versions):
            problems.add(speech.withdrawn.source or speech.primary.source, speech.withdrawn.line,
                         "withdrawn: this speech was never released (no edition in "
                         f"{config.ledger_file.name}), so there is nothing to keep: delete its file or set "
                         "`status: draft` instead (belum pernah dirilis: hapus atau jadikan draft)")
    problems.raise_if_any(SourceError)


def _edition_count(editions: Editions | None, speech: Speech, lang: str) -> int:
    if editions is None:
        return 1
    return len(editions.of(speech, lang)) + (editions.pending_of(speech, lang) is not None)


SHARD_PAGES = 180                # pages per search shard at most, about: one Pagefind process's memory


def _search_shards(pages: list[Page]) -> tuple[SearchShard, ...]:
    """Public speech pages, one language to a shard ("pagefind/id-0"), spread over their
    language's shards by their speech's id. A first query fetches a part of every shard's index,
    so the shards are as few as one indexer's memory allows: one language each (a shard of two
    languages holds an index of each) and SHARD_PAGES pages each. A page keeps its shard until
    its language's shard count changes; then that language's shards are indexed again."""
    indexed = [p for p in pages if p.kind == "speech" and p.indexed and p.speech is not None]
    by_lang: dict[str, list[Page]] = {}
    for page in indexed:
        by_lang.setdefault(page.lang, []).append(page)
    shards = []
    for lang, members in by_lang.items():
        count = -(-len(members) // SHARD_PAGES)
        groups: list[list[Page]] = [[] for _ in range(count)]
        for page in members:
            assert page.speech is not None
            number = int(hashlib.sha256(page.speech.id.encode()).hexdigest()[:8], 16) % count
            groups[number].append(page)
        shards += [SearchShard(f"{SEARCH_BUNDLE}/{lang}-{n}", tuple(p.dest for p in group), (lang,))
                   for n, group in enumerate(groups) if group]
    return tuple(shards)


def preview_output(site: Site, speech: Speech, lang: str) -> Output:
    """A speech page's link preview: its texts (the date as its renderer words it in `lang`), the
    site's title, and the picture and fonts it is drawn with, by their bytes."""
    version = speech.versions[lang]
    materials = site.materials
    return Output(site.preview_dest(speech, lang), "preview", str(version.source),
                  made_of=(version.title, version.speaker, version.date.isoformat(), lang, site.config.site.title,
                           materials.picture, *materials.fonts))


def book_output(site: Site, speech: Speech, lang: str) -> Output:
    """A language version's book as its next edition: the version (its text by its digests), the
    edition it will be, the emblem on its cover and the fonts (by their bytes). The files
    WeasyPrint reads as it lays the book out are kept with it too (`memo.Memo.keep`)."""
    version = speech.versions[lang]
    pending = site.editions.pending_of(speech, lang) if site.editions is not None else None
    return Output(site.pdf_dest(speech, lang), "pdf", str(version.source),
                  made_of=(version, version.source_sha, pending, site.materials.emblem, *site.materials.fonts))


def qr_output(site: Site, copy: Copy, ext: str) -> Output:
    """A copy's QR code (PNG or SVG): the URL it opens, and what shapes it, the card size it is
    printed at, the error correction and the logo over it (by its bytes)."""
    qr = site.config.qr
    return Output(site.qr_dest(copy, ext), "qr", f"the copy of {copy.speech.id} for {copy.recipient.id!r}",
                  made_of=(site.url(copy_dest(copy)), qr.card_size, qr.error_correction, site.materials.logo))


def cards_output(site: Site, speech: Speech, ext: str) -> Output:
    """A speech's card sheet ("pdf", in parts of whole sheets whose copies its stage adds part by
    part) or mailroom list ("csv", its copies whole): the first released edition they name for good
    (none: a proof), the layout and QR recipe, and the picture and fonts they print, by their bytes.
    An embargoed speech's too, which its stage writes beside the output, not into it."""
    config, materials = site.config, site.materials
    first = site.editions.first(speech, speech.primary.lang) if site.editions is not None else None
    printed = (speech.id, first.number if first is not None else None,
               first.released_fingerprint if first is not None else "", first is None)
    if ext == "csv":
        return Output(site.cards_dest(speech, ext), "mailroom", f"the cards of {speech.id}",
                      made_of=(*printed, *(c.printed for c in site.copies_of(speech))))
    return Output(site.cards_dest(speech, ext), "cards", f"the cards of {speech.id}",
                  made_of=(*printed, config.qr.card_size, config.qr.error_correction, materials.logo, materials.picture,
                           *materials.fonts))


def _inventory(site: Site, sources: Sources, options: Options,
               held: frozenset[str] = frozenset()) -> tuple[Output, ...]:
    config = site.config
    out: list[Output] = []
    for page in site.pages:
        owner = (str(page.version.source) if page.kind == "speech" and page.version is not None
                 else f"the {page.kind} page {page.title!r}" if page.archive is not None
                 else f"the {page.kind} page")
        out.append(Output(page.dest, "page", owner, made_of=(page,)))
    for speech in site.speeches:
        for lang, version in speech.versions.items():
            out.append(preview_output(site, speech, lang))
    if site.favicon:
        out.append(Output(FAVICON, "favicon", "[pdf] emblem / [qr] logo",
                          made_of=(config.site.title, site.materials.picture)))
    for path in sorted(p for p in THEME_ASSETS.rglob("*") if p.is_file()):
        out.append(Output(f"{ASSETS}/{path.relative_to(THEME_ASSETS).as_posix()}", "file",
                          "the theme", source=path))
    for path in sources.static_files:
        dest = path.relative_to(config.root).as_posix()
        if dest not in held:             # an image only an embargoed speech shows waits with it
            out.append(Output(dest, "file", str(path), source=path))
    # Released editions are served for good, in every build: they are copied, never rendered, so
    # a build without PDFs (--no-pdf, the preview) keeps them too. Only a new PDF needs `options.pdf`.
    # An edition is kept, and served, where it was released: a renamed speech's under its old id.
    ledger = config.ledger_file.name
    any_pdf = False
    for speech in site.speeches:
        for lang, version in speech.versions.items():
            released = site.editions.of(speech, lang) if site.editions is not None else ()
            for edition in released:
                out.append(Output(edition.dest, "edition", f"{ledger}: {speech.id} ({lang}) edition "
                                  f"{edition.number}", source=config.editions_dir / edition.dest,
                                  made_of=(edition.sha256,)))
            if site.editions is None or site.editions.pending_of(speech, lang) is not None:
                if options.pdf:
                    out.append(book_output(site, speech, lang))
            else:                    # the latest is released: its kept bytes, here too
                out.append(Output(site.pdf_dest(speech, lang), "edition", str(version.source),
                                  source=config.editions_dir / released[-1].dest, made_of=(released[-1].sha256,)))
            for alias in speech.aliases if released else ():    # its old latest PDF: the latest released
                out.append(Output(site.pdf_dest(renamed(speech, alias), lang), "edition",
                                  f"{version.source} (aliases: {alias})",
                                  source=config.editions_dir / released[-1].dest, made_of=(released[-1].sha256,)))
            any_pdf = any_pdf or bool(released) or options.pdf
    if config.qr.enabled:
        for c in site.copies:
            out += [qr_output(site, c, "png"), qr_output(site, c, "svg")]
        with_copies = {c.speech.id for c in site.copies}
        for speech in (s for s in site.speeches if s.id in with_copies):
            out.append(cards_output(site, speech, "csv"))
            if options.cards:
                out.append(cards_output(site, speech, "pdf"))
    out.append(Output(MANIFEST, "manifest", "the manifest"))
    if site.certificate:
        out.append(Output(CERTIFICATE, "certificate", "[signing] certificate", made_of=(site.certificate,)))
    if options.signed:
        out.append(Output(MANIFEST_SIGNATURE, "signature", "the manifest's signature"))
    if any_pdf:
        out.append(Output(CHECKSUMS, "checksums", "the checksums"))
    for shard in site.search_shards:
        out.append(Output(shard.dest, "search", "the search index"))
    if site.search_shards:
        out.append(Output(SEARCH_RECENT, "search", "the search index"))
        out.append(Output(SEARCH_RECENT_LIST, "search", "the search index"))
        out.append(Output(SEARCH_ENGINE, "search", "the search index"))
    return tuple(out)


def _check_claims(outputs: tuple[Output, ...], config: Config) -> None:
    """Two outputs on one path, or a file where another output needs a folder, is an error."""
    problems = Problems(config.root)
    claimed: dict[str, Output] = {}
    for output in outputs:
        key = output.dest.lower()    # case-insensitive hosts and file systems would merge these
        if key in claimed:
            problems.add(output.owner, None, f"claims the URL {pretty(output.dest)!r} that "
                         f"{claimed[key].owner} also claims; give one of them another slug")
        else:
            claimed[key] = output
    for output in outputs:
        parts = output.dest.lower().split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            other = claimed.get(folder)
            if other is not None and other.kind != "search":
                problems.add(output.owner, None, f"needs the folder {folder!r}, which {other.owner} "
                             "claims as a file")
            elif other is not None:
                problems.add(output.owner, None, f"claims a path inside {folder}/, the search "
                             "index's folder")
        if output.kind != "search" and parts[0] == SEARCH_BUNDLE.lower():
            problems.add(output.owner, None, f"claims a path inside {SEARCH_BUNDLE}/, the search "
                         "index's folder")
    problems.raise_if_any(SourceError)


HOME_LATEST = 10                 # speeches on the home page
PER_PAGE = 100                   # speeches (or archives) on one listing page


def _count(items: tuple) -> int:
    return max(1, -(-len(items) // PER_PAGE))


def _parts(first: str, items: tuple) -> list[tuple[str, tuple, str, str]]:
    """A listing cut into pages of PER_PAGE: (dest, items, previous dest, next dest) each. The
    first page keeps the listing's own address; the others are `.../halaman-N/index.html`."""
    folder = posixpath.dirname(first)
    dests = [first] + [f"{folder}/halaman-{n}/{INDEX}" for n in range(2, _count(items) + 1)]
    return [(dest, items[i * PER_PAGE:(i + 1) * PER_PAGE], dests[i - 1] if i else "",
             dests[i + 1] if i + 1 < len(dests) else "") for i, dest in enumerate(dests)]


def _copies(speech: Speech, recipients: tuple[Recipient, ...]) -> list[Copy]:
    """Front matter names recipient ids or groups; each institution gets one copy, in file order."""
    wanted = set(speech.recipients)
    chosen = [r for r in recipients if r.id in wanted or r.group in wanted]
    return [Copy(speech, r, n, len(chosen)) for n, r in enumerate(chosen, 1)]


def _slug_dest(folder: str):
    taken: dict[str, str] = {}

    def dest(key: str) -> str:
        base = slugify(key)
        slug, n = base, 2
        while taken.get(slug, key) != key or reserved_name(slug):   # -2, -3 for a taken or reserved one
            slug, n = f"{base}-{n}", n + 1
        taken[slug] = key
        return f"{folder}/{slug}/index.html"
    return dest


def _group(speeches, kind, key_of, dest_of) -> tuple[Archive, ...]:
    groups: dict[str, list[Speech]] = {}
    for speech in speeches:
        groups.setdefault(key_of(speech), []).append(speech)
    keys = sorted(groups, reverse=(kind == "year"))
    return tuple(Archive(kind, k, dest_of(k), tuple(groups[k])) for k in keys)
