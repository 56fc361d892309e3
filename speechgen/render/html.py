"""HTML pages, feeds, sitemap and robots.txt from the site graph, through Jinja templates.

Pure: values in, bytes out. The build decides what to render and keeps what was rendered."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from speechgen import __version__, markdown, texts
from speechgen.errors import Problem, SourceError
from speechgen.graph import Page, Site, relative, root_prefix
from speechgen.model import Edition, PdfInfo
from speechgen.render.changes import compare
from speechgen.templates import BUILTIN, Words, direction, lang_attrs, site_words, template_error

PAGE_TEMPLATES = ["base.html", "home.html", "archive.html", "archive-index.html", "speech.html", "404.html", "copy.html",
                  "changes.html", "feed.xml", "sitemap.xml", "robots.txt",
                  "search.html", "accessibility.html", "side-by-side.html", "redirect.html", "embargo.html"]
PdfMap = Mapping[tuple[str, str], PdfInfo]     # (speech id, lang) -> PdfInfo
# A body longer than this (characters of HTML, a few screens of a phone) gets the contents /
# back-to-top control at the corner of the screen.
LONG_TEXT = 8000
# Root-relative links in a speech body ("/static/x.png") become page-relative on output.
_ROOT_LINK = re.compile(r'(\s(?:href|src))="/(?!/)')


def page_context(site: Site, page: Page, pdfs: PdfMap, *, recipe: bool = False) -> dict:
    """What a page's template gets beyond site, config and page: computed here, in Python.

    `recipe=True` (the build's key of a page) gives, for the values made from a speech's body (the
    body at the page's depth, the side-by-side rows), what each is made from instead: the same
    answer whenever those values would be the same, at a fraction of the cost."""
    if page.kind == "feed":
        entries = [(s, s.versions[page.lang]) for s in site.speeches
                   if s.listed and page.lang in s.versions][:50]
        updated = max((v.date for _, v in entries), default=None)
        return dict(entries=entries,
                    updated=f"{updated.isoformat()}T00:00:00Z" if updated else "1970-01-01T00:00:00Z")
    if page.kind in ("sitemap", "robots"):
        return dict(pages=[p for p in site.pages if p.indexed])
    if page.speech is None or page.version is None:
        return {}
    speech, version = page.speech, page.version
    canonical = site.url(site.speech_dest(speech, version.lang))
    pdf = pdfs.get((speech.id, version.lang))
    every = site.every_edition(speech, version.lang, pdf)
    extra = dict(
        speech=speech, version=version, canonical=canonical, noindex=not page.indexed, pdf=pdf,
        editions=every, latest=every[-1] if every else None,
        jsonld=Markup(jsonld(site, page, canonical)),
    )
    if page.kind == "changes":
        return extra | changes(site, page, every)
    prefix = root_prefix(page.dest)
    extra["body"] = ("body", version.body_sha, version.lang, prefix) if recipe else \
        _page_body(version.body_sha, version.lang, prefix, site_words(site.config.words))
    if page.kind == "copy" and every:
        # The card was printed with the first edition's fingerprint (stage `copies`), for good.
        extra["card_edition"] = every[0]
    if page.kind == "side-by-side":
        extra.update(side_by_side_recipe(site, page) if recipe else side_by_side(site, page))
    return extra


@functools.lru_cache(maxsize=8)
def _page_body(body_sha: str, lang: str, prefix: str, interface: Words) -> Markup:
    """A body as a page at this depth shows it; the same object for every page that shows it
    (a speech's copy pages), made once. Pure: the text is the one `body_sha` names."""
    body = _localize(texts.STORE.get(body_sha), lang, interface)
    return Markup(_ROOT_LINK.sub(lambda m: f'{m[1]}="{prefix}', body))


def changes(site: Site, page: Page, every: tuple[Edition, ...]) -> dict:
    """A changes page: edition `page.edition` against the one before, word by word."""
    newer = next(e for e in every if e.number == page.edition)
    older = next(e for e in every if e.number == page.edition - 1)
    found = compare(site.text_of(older), site.text_of(newer))
    return dict(older=older, newer=newer, changes=found)


def render_page(env: jinja2.Environment, site: Site, page: Page, extra: dict) -> bytes:
    """One page's bytes from its template; `extra` is `page_context(...)`. Raises SourceError
    naming the template's file and line."""
    try:
        return _render(site, env, page, **extra).encode("utf-8")
    except (jinja2.TemplateError, TypeError, KeyError, AttributeError, ValueError) as exc:
        raise SourceError([Problem(*template_error(exc, page.dest))]) from None


def side_by_side_recipe(site: Site, page: Page) -> dict:
    """Everything `side_by_side` reads besides the code: the page, and each language's body and page."""
    speech = page.speech
    assert speech is not None
    return dict(rows=("side-by-side", page.dest, tuple(
        (lang, v.body_sha, site.speech_dest(speech, lang)) for lang, v in speech.versions.items())))


def side_by_side(site: Site, page: Page) -> dict:
    """Every language of a speech, paragraph by paragraph: row N holds each language's p-N.

    Inside a row the blocks lose their own ids (the row carries p-N, once per page); a footnote
    reference and its footnote stay on this page, each language's footnotes under the rows with
    ids of their own (`en-fn1`, `en-fnref1`); any other link within a text goes to that
    language's own page.
    """
    speech = page.speech
    assert speech is not None
    blocks = {lang: dict(markdown.paragraphs(v.body_html)) for lang, v in speech.versions.items()}
    numbers = sorted({n for by_number in blocks.values() for n in by_number})
    prefix = root_prefix(page.dest)
    own_pages = {lang: relative(page.dest, site.speech_dest(speech, lang)) for lang in speech.versions}
    interface = site_words(site.config.words)

    def local(lang: str, html_text: str) -> str:
        html_text = _ID_ATTR.sub(lambda m: f' id="{lang}-{m[1]}"' if _FOOTNOTE_ID.fullmatch(m[1]) else "",
                                 html_text)
        html_text = _HASH_LINK.sub(lambda m: f'href="#{lang}-{m[1]}"' if _FOOTNOTE_ID.fullmatch(m[1])
                                   else f'href="{own_pages[lang]}#{m[1]}"', html_text)
        return _ROOT_LINK.sub(lambda m: f'{m[1]}="{prefix}', _localize(html_text, lang, interface))

    def cell(lang: str, html_text: str) -> Markup:
        return Markup(local(lang, html_text))

    rows = [(n, [(lang, cell(lang, blocks[lang][n]) if n in blocks[lang] else None)
                 for lang in speech.versions]) for n in numbers]
    notes = [(lang, Markup(local(lang, v.body_html[v.body_html.index(_FOOTNOTES):])))
             for lang, v in speech.versions.items() if _FOOTNOTES in v.body_html]
    counts = {lang: len(b) for lang, b in blocks.items()}
    return dict(rows=rows, footnotes=notes, paragraph_counts=counts, counts_differ=len(set(counts.values())) > 1)


_ID_ATTR = re.compile(r'\sid="([^"]*)"')
_HASH_LINK = re.compile(r'href="#([^"]*)"')
_FOOTNOTE_ID = re.compile(r"fn\d+|fnref\d+(?::\d+)?")      # a footnote (fn1) and its reference (fnref1)
_FOOTNOTES = '<section class="footnotes">'


def _localize(body_html: str, lang: str, interface: Words = BUILTIN) -> str:
    """The body with the interface words of its language (tables' names, the footnotes' heading)."""
    return markdown.localize(body_html, interface.label(lang, "table"), interface.label(lang, "footnotes"))


def _render(site: Site, env: jinja2.Environment, page: Page, **extra) -> str:
    base_path = urlsplit(site.config.site.base_url).path

    def url(dest: str) -> str:
        # The 404 page is served at any depth, so it links from the site's root path.
        return base_path + dest if page.kind == "404" else relative(page.dest, dest)

    interface = site_words(site.config.words)
    context = dict(
        site=site, config=site.config, page=page, lang=page.lang, speechgen_version=__version__,
        url=url, abs_url=site.url,
        # interface words: `t` for text (marked lang="en" where the page's language has none),
        # `tp` plain, for attributes and <title>; the template's label() and the like take
        # `interface_words`
        t=lambda key: interface.html(page.lang, key), tp=lambda key: interface.label(page.lang, key),
        interface_words=interface,
        dir=direction(page.lang), attrs=lambda code: lang_attrs(code, page.lang), og_locale=og_locale,
        long_text=LONG_TEXT,
        # the site's other interface languages: what a two-language label adds after the page's own
        alt_langs=interface.others(page.lang, site.config.site.languages),
    )
    context.update(extra)
    return env.get_template(page.template).render(context)


@functools.lru_cache(maxsize=64)
def og_locale(lang: str) -> str:
    """Open Graph's locale for a language, language_TERRITORY: the territory it names, else the
    one CLDR finds likeliest for it ('en' -> 'en_US', 'id' -> 'id_ID', 'ar' -> 'ar_EG',
    'en-GB' -> 'en_GB'); the language alone when CLDR knows no territory for it."""
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global, parse_locale

    try:
        locale = Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return lang.replace("-", "_")
    territory = locale.territory
    if not territory:
        likely = get_global("likely_subtags")
        guess = likely.get(f"{locale.language}_{locale.script}") if locale.script else None
        guess = guess or likely.get(locale.language)
        territory = parse_locale(guess)[1] if guess else None
    return f"{locale.language}_{territory}" if territory else locale.language


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
        "image": site.url(site.preview_dest(speech, version.lang)),
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
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))     # compact: json's C encoder
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
