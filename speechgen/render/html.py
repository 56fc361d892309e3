"""HTML pages, feeds, sitemap and robots.txt from the site graph, through Jinja templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from speechgen import __version__, markdown
from speechgen.cache import Cache, key as cache_key
from speechgen.errors import Problems, SourceError
from speechgen.graph import Page, Site, relative, root_prefix
from speechgen.model import Artifact, PdfInfo
from speechgen.templates import THEME_DIR, label, template_error

PAGE_TEMPLATES = ["base.html", "home.html", "archive.html", "speech.html", "404.html",
                  "feed.xml", "sitemap.xml", "robots.txt",
                  "search.html", "accessibility.html", "side-by-side.html"]
PdfMap = Mapping[tuple[str, str], PdfInfo]     # (speech id, lang) -> PdfInfo
# Root-relative links in a speech body ("/static/x.png") become page-relative on output.
_ROOT_LINK = re.compile(r'(\s(?:href|src))="/(?!/)')


def render_site(site: Site, env: jinja2.Environment, pdfs: PdfMap | None = None,
                use_cache: bool = True) -> Iterator[Artifact]:
    pdfs = pdfs or {}
    problems = Problems(site.config.root)
    pages = PageKeys(site, pdfs) if use_cache else None
    store = Cache(site.config.root, "html")
    for page in site.pages:
        entry = pages.key(page) if pages else None
        data = store.get(entry) if entry else None
        if data is None:
            try:
                data = render_page(site, env, page, pdfs).encode("utf-8")
            except (jinja2.TemplateError, TypeError, KeyError, AttributeError) as exc:
                problems.add(*template_error(exc, page.dest))
                continue
            if entry:
                store.put(entry, data)
        yield Artifact(page.dest, data)
    for lang in site.config.site.languages:
        page = Page(f"feeds/{lang}.xml", "feed.xml", "feed", lang, site.config.site.title, indexed=False)
        entries = [(s, s.versions[lang]) for s in site.speeches if lang in s.versions][:50]
        updated = max((v.date for _, v in entries), default=None)
        try:
            text = _render(site, env, page, entries=entries,
                           updated=f"{updated.isoformat()}T00:00:00Z" if updated else "1970-01-01T00:00:00Z")
            yield Artifact(page.dest, text.encode("utf-8"))
        except jinja2.TemplateError as exc:
            problems.add(*template_error(exc, page.dest))
    indexed = [p for p in site.pages if p.indexed]
    for name in ("sitemap.xml", "robots.txt"):
        page = Page(name, name, name, site.config.site.default_language, name, indexed=False)
        try:
            yield Artifact(name, _render(site, env, page, pages=indexed).encode("utf-8"))
        except jinja2.TemplateError as exc:
            problems.add(*template_error(exc, name))
    problems.raise_if_any(SourceError)
    yield from static_artifacts(site)


class PageKeys:
    """What each page is made from, as a cache key, so a rebuild renders only what changed.

    A page's key covers the templates, the config, every speech's listing data (titles, dates,
    speakers, occasions: what home, archives and navigation show), and the whole source of the
    page's own speech with its PDFs and recipient. A template that shows another speech's body
    would need that speech in the key too; the bundled ones do not.
    """

    def __init__(self, site: Site, pdfs: PdfMap) -> None:
        self.pdfs = pdfs
        parts: list[str] = [repr(site.config)]
        for folder in (site.config.templates_dir, THEME_DIR / "templates"):
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        parts.append(f"{path.relative_to(folder)}\0{path.read_bytes().hex()}")
        for speech in site.speeches:
            parts.append(repr((speech.id, speech.status, speech.recipients)))
            for v in speech.versions.values():
                parts.append(repr((v.lang, v.title, v.subtitle, v.speaker, v.date, v.occasion,
                                   v.place, v.summary)))
        parts.extend(repr(r) for r in site.recipients)
        parts.extend(p.dest for p in site.pages)
        self.base = cache_key("html-site", *parts)

    def key(self, page: Page) -> str:
        parts = [self.base, repr((page.dest, page.template, page.kind, page.lang, page.title,
                                  page.indexed))]
        if page.speech is not None:
            for lang, v in page.speech.versions.items():
                parts.append(v.source_text)
                parts.append(repr(self.pdfs.get((page.speech.id, lang))))
        if page.copy is not None:
            parts.append(repr((page.copy.recipient, page.copy.number, page.copy.total)))
        return cache_key("html", *parts)


def static_artifacts(site: Site) -> Iterator[Artifact]:
    """The theme's assets under _assets/, and the project's static/ folder as it is."""
    assets = THEME_DIR / "assets"
    for path in sorted(assets.rglob("*")):
        if path.is_file():
            yield Artifact("_assets/" + path.relative_to(assets).as_posix(), path.read_bytes())
    for path in site.static_files:
        yield Artifact(path.relative_to(site.config.root).as_posix(), path.read_bytes())


def render_page(site: Site, env: jinja2.Environment, page: Page, pdfs: PdfMap) -> str:
    extra: dict = {}
    if page.speech is not None and page.version is not None:
        speech, version = page.speech, page.version
        canonical = site.url(site.speech_dest(speech, version.lang))
        extra = dict(
            speech=speech, version=version, canonical=canonical, noindex=not page.indexed,
            pdf=pdfs.get((speech.id, version.lang)),
            body=Markup(_ROOT_LINK.sub(lambda m: f'{m[1]}="{root_prefix(page.dest)}', version.body_html)),
            jsonld=Markup(jsonld(site, page, canonical)),
        )
        if page.kind == "side-by-side":
            extra.update(side_by_side(site, page))
    return _render(site, env, page, **extra)


def side_by_side(site: Site, page: Page) -> dict:
    """Every language of a speech, paragraph by paragraph: row N holds each language's p-N.

    Inside a row the blocks lose their own ids (the row carries p-N, once per page), and a
    footnote reference points at the footnote on that language's own page.
    """
    speech = page.speech
    assert speech is not None
    blocks = {lang: dict(markdown.paragraphs(v.body_html)) for lang, v in speech.versions.items()}
    numbers = sorted({n for by_number in blocks.values() for n in by_number})
    prefix = root_prefix(page.dest)

    def cell(lang: str, html_text: str) -> Markup:
        own_page = relative(page.dest, site.speech_dest(speech, lang))
        html_text = _ID_ATTR.sub("", html_text)
        html_text = html_text.replace('href="#', f'href="{own_page}#')
        return Markup(_ROOT_LINK.sub(lambda m: f'{m[1]}="{prefix}', html_text))

    rows = [(n, [(lang, cell(lang, blocks[lang][n]) if n in blocks[lang] else None)
                 for lang in speech.versions]) for n in numbers]
    counts = {lang: len(b) for lang, b in blocks.items()}
    return dict(rows=rows, paragraph_counts=counts, counts_differ=len(set(counts.values())) > 1)


_ID_ATTR = re.compile(r'\sid="[^"]*"')


def _render(site: Site, env: jinja2.Environment, page: Page, **extra) -> str:
    base_path = urlsplit(site.config.site.base_url).path

    def url(dest: str) -> str:
        # The 404 page is served at any depth, so it links from the site's root path.
        return base_path + dest if page.kind == "404" else relative(page.dest, dest)

    context = dict(
        site=site, config=site.config, page=page, lang=page.lang, speechgen_version=__version__,
        url=url, abs_url=site.url, t=lambda key: label(page.lang, key),
    )
    context.update(extra)
    return env.get_template(page.template).render(context)


def jsonld(site: Site, page: Page, canonical: str) -> str:
    """schema.org Article for a speech page; safe inside <script> (no '<', '>' or '&' literal)."""
    speech, version = page.speech, page.version
    assert speech is not None and version is not None
    data: dict = {
        "@context": "https://schema.org",
        "@type": ["CreativeWork", "Article"],
        "headline": version.title,
        "name": version.title,
        "creator": {"@type": "Person", "name": version.speaker},
        "author": {"@type": "Person", "name": version.speaker},
        "dateCreated": version.date.isoformat(),
        "datePublished": version.date.isoformat(),
        "inLanguage": version.lang,
        "url": canonical,
    }
    if version.subtitle:
        data["alternativeHeadline"] = version.subtitle
    if version.summary:
        data["description"] = version.summary
    if site.config.site.publisher:
        data["publisher"] = {"@type": "Organization", "name": site.config.site.publisher}
    others = [v for code, v in speech.versions.items() if code != version.lang]
    if version is speech.primary and others:
        data["workTranslation"] = [
            {"@type": "Article", "inLanguage": v.lang, "name": v.title,
             "url": site.url(site.speech_dest(speech, v.lang))} for v in others]
    elif version is not speech.primary:
        data["translationOfWork"] = {"@type": "Article", "inLanguage": speech.primary.lang,
                                     "url": site.url(site.speech_dest(speech, speech.primary.lang))}
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
