"""Markdown -> safe HTML with markdown-it-py: raw HTML escaped, safe link schemes only."""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from speechgen.model import Heading

# Link schemes a speech may use; anything else (javascript:, data:, file:, ...) is dropped.
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# Paragraph anchors: the Nth top-level block is "p-N" in every language (and in the PDF).
PARAGRAPH_ID = re.compile(r"p-\d+")
# Ids the page itself uses: the theme's templates (tests/test_markdown.py checks this list against
# them) and the footnotes (`fn1`, `fnref1`, `fnref1:2`). A heading never takes one, so a skip link
# or a footnote link always lands where it should.
BUILT_IN_IDS = frozenset({"isi", "judul", "toc-title", "pembukaan", "edisi-judul", "naskah", "q",
                          "search-form", "search-results", "search-status", "search-words", "search-more",
                          "search-partial", "search-partial-title", "a11y-id", "a11y-en"})
_BUILT_IN_ID = re.compile(r"p-\d+|fn\d+|fnref\d+(?::\d+)?")
_PARAGRAPH_START = re.compile(r'<[a-z][a-z0-9]*(?: class="[^"]*")? id="p-(\d+)"')
# These blocks are wrapped in a <div id="p-N">: a heading keeps its own readable id and a code
# block's attributes land on <code>.
_WRAPPED = {"heading_open": "p-heading", "fence": "p-code", "code_block": "p-code"}
# Every table, top-level or nested, scrolls sideways inside its own <div class="table-wrap"> on a
# phone: a region a keyboard can scroll, named by its header row; `localize` puts the page's word
# for "table" before that name.
_TABLE_NAME = re.compile(r'(<div class="table-wrap"[^>]* aria-label=")([^"]*)"')
_FOOTNOTES_OPEN = '<section class="footnotes">\n'


def slugify(text: str) -> str:
    """A stable, readable ASCII id for a heading: 'Ekonomi & Pangan' -> 'ekonomi-pangan'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "bagian"


def _validate_link(url: str) -> bool:
    # markdown-it hands over the percent-encoded link; browsers drop tabs, newlines and controls
    # before reading a scheme. Decode and drop them too, so "jav&#x09;ascript:" is refused.
    match = _SCHEME_RE.match(re.sub(r"[\x00-\x20]", "", unquote(url)))
    return match is None or (match.group(1).lower() + ":") in SAFE_SCHEMES


def _make_parser() -> MarkdownIt:
    # xhtmlOut off: HTML, not XHTML (`<br>`, not `<br />`, which the Nu Html Checker remarks on)
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                   "xhtmlOut": False})
    md.enable("table")
    md.use(footnote_plugin)
    md.validateLink = _validate_link
    return md


_MD = _make_parser()


@dataclass
class Rendered:
    html: str
    headings: list[Heading] = field(default_factory=list)
    images: list[tuple[str, str, int]] = field(default_factory=list)   # (src, alt, line)
    links: list[tuple[str, int]] = field(default_factory=list)         # (href, line)
    summary: str = ""

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "Rendered":
        raw = json.loads(data)
        return cls(html=raw["html"], headings=[Heading(**h) for h in raw["headings"]],
                   images=[tuple(i) for i in raw["images"]], links=[tuple(i) for i in raw["links"]],
                   summary=raw["summary"])


def render(text: str, first_line: int = 1) -> Rendered:
    """Render a speech body. `first_line` is the body's line in its file, for messages."""
    env: dict = {}
    tokens = _MD.parse(text, env)
    out = Rendered(html="")
    used: set[str] = set()
    for index, token in enumerate(tokens):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "heading_open":
            inline = tokens[index + 1]
            title = _plain_text(inline)
            base = slugify(title)
            anchor, n = base, 2
            while anchor in used or anchor in BUILT_IN_IDS or _BUILT_IN_ID.fullmatch(anchor):
                anchor, n = f"{base}-{n}", n + 1
            used.add(anchor)
            token.attrSet("id", anchor)
            out.headings.append(Heading(int(token.tag[1]), anchor, title))
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "image":
                    out.images.append((str(child.attrGet("src") or ""), _plain_text(child), line))
                elif child.type == "link_open":
                    out.links.append((str(child.attrGet("href") or ""), line))
        elif token.type == "paragraph_open" and not out.summary and tokens[index + 1].type == "inline":
            out.summary = _plain_text(tokens[index + 1])
    tokens = _number_blocks(tokens)
    out.html = _MD.renderer.render(tokens, _MD.options, env)
    return out


def _number_blocks(tokens: list[Token]) -> list[Token]:
    """Give the Nth top-level block (paragraph, heading, list, table, quote...) the id p-N."""
    numbered: list[Token] = []
    closing: list[str] = []      # close tags of wrappers, by nesting
    n = 0
    for index, token in enumerate(tokens):
        top_level_start = token.level == 0 and token.block and token.nesting >= 0 \
            and not token.type.startswith("footnote")
        if top_level_start:
            n += 1
            if token.type == "table_open":
                numbered.append(_table_wrapper(tokens, index, f' id="p-{n}"'))
                closing.append("</div>\n")
            elif token.type in _WRAPPED:
                numbered.append(_raw(f'<div class="{_WRAPPED[token.type]}" id="p-{n}">\n'))
                if token.nesting == 0:
                    numbered += [token, _raw("</div>\n")]
                    continue
                closing.append("</div>\n")
            else:
                token.attrSet("id", f"p-{n}")
                closing.append("")
        elif token.type == "table_open":          # in a list, a quote or a footnote: no number
            numbered += [_table_wrapper(tokens, index, ""), token]
            continue
        elif token.type == "table_close" and token.level > 0:
            numbered += [token, _raw("</div>\n")]
            continue
        numbered.append(token)
        if token.level == 0 and token.block and token.nesting == -1 and closing \
                and not token.type.startswith("footnote"):
            wrapper_end = closing.pop()
            if wrapper_end:
                numbered.append(_raw(wrapper_end))
    return numbered


def _table_wrapper(tokens: list[Token], start: int, anchor: str) -> Token:
    """A table's scroll box: focusable (a keyboard scrolls it), a region named by its header row."""
    cells = []
    for token in tokens[start + 1:]:
        if token.type in ("thead_close", "table_close"):
            break
        if token.type == "inline" and _plain_text(token):
            cells.append(_plain_text(token))
    name = html_lib.escape(", ".join(cells), quote=True)
    return _raw(f'<div class="table-wrap"{anchor} role="region" tabindex="0" aria-label="{name}">\n')


def localize(body_html: str, table: str, footnotes: str) -> str:
    """A rendered body with the page's interface words: `table` before each table's name,
    a `footnotes` heading over the footnotes. Only markup this module wrote is touched (a
    source's own HTML is escaped), so the match is exact."""
    table = html_lib.escape(table, quote=True)
    body_html = _TABLE_NAME.sub(lambda m: f'{m[1]}{table}{": " + m[2] if m[2] else ""}"', body_html)
    heading = f'<h2 class="footnotes-title" data-pagefind-ignore>{html_lib.escape(footnotes)}</h2>\n'
    return body_html.replace(_FOOTNOTES_OPEN, _FOOTNOTES_OPEN + heading, 1)


def _raw(html: str) -> Token:
    """Markup we write ourselves (never the author's: raw HTML in a source is off)."""
    return Token("html_block", "", 0, content=html, block=True)


def paragraphs(body_html: str) -> list[tuple[int, str]]:
    """Split a rendered body back into its numbered top-level blocks: [(N, html), ...].

    Footnotes, which follow the last block, are left out.
    """
    starts = [(m.start(), int(m.group(1))) for m in _PARAGRAPH_START.finditer(body_html)]
    end = body_html.find('<hr class="footnotes-sep"')
    end = len(body_html) if end < 0 else end
    blocks = []
    for i, (start, number) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else end
        blocks.append((number, body_html[start:stop].strip()))
    return blocks


ITEM = "\ue000"                  # in `block_text`: a token before each item of a list (a character no text has)


def block_text(html: str) -> str:
    """A rendered block as plain text, its words apart, a list's items each after `ITEM`."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "li":
            self.parts.append(f" {ITEM} ")
        elif tag in ("br", "p", "td", "th"):
            self.parts.append(" ")


def _plain_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.children:
            parts.append(_plain_text(child))
    return "".join(parts).strip()
