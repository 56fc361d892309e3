"""Markdown -> safe HTML with markdown-it-py: raw HTML escaped, safe link schemes only."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from speechgen.model import Heading

# Link schemes a speech may use; anything else (javascript:, data:, file:, ...) is dropped.
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def slugify(text: str) -> str:
    """A stable, readable ASCII id for a heading: 'Ekonomi & Pangan' -> 'ekonomi-pangan'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "bagian"


def _validate_link(url: str) -> bool:
    match = _SCHEME_RE.match(url.strip())
    return match is None or (match.group(1).lower() + ":") in SAFE_SCHEMES


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
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
            while anchor in used:
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
    out.html = _MD.renderer.render(tokens, _MD.options, env)
    return out


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
