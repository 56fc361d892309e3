"""What an edition changed: the word-level difference between two editions' texts.

Pure: two source texts in, the changed paragraphs out, each a run of pieces kept, deleted or
inserted. The changes page template shows them with <del> and <ins> (and words for screen
readers); the comparison is of what a reader reads (title and body, as rendered), not of markup.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from speechgen import markdown, yamlsafe
from speechgen.reader import split_front_matter

_BREAK = "\n"                    # a token between paragraphs
ITEM = "\ue000"                  # a token before each item of a list (a character no text has)
_WORD = re.compile(r"\S+")
_LIST = re.compile(r"<(ul|ol)\b")


@dataclass(frozen=True)
class Piece:
    kind: str                    # "same" | "deleted" | "inserted"
    text: str


@dataclass(frozen=True)
class Paragraph:
    number: int                  # the block's paragraph number (p-N) in the newer text, 0 for the title
    pieces: tuple[Piece, ...]
    list: str = ""               # "ul" or "ol" when the block is a list, its items apart

    @property
    def items(self) -> tuple[tuple[Piece, ...], ...]:
        """A list's items, each its run of pieces (a piece split where an item begins)."""
        items: list[list[Piece]] = [[]]
        for piece in self.pieces:
            for n, part in enumerate(piece.text.split(ITEM)):
                if n:
                    items.append([])
                if part.strip():
                    items[-1].append(Piece(piece.kind, part.strip()))
        return tuple(tuple(item) for item in items if item)


@dataclass(frozen=True)
class Changes:
    paragraphs: tuple[Paragraph, ...]      # only those with a change
    deleted: int                           # words
    inserted: int


def blocks(source_text: str) -> list[str]:
    """A source's title and body blocks as plain text, in order (a list's items each begin with `ITEM`)."""
    return [text for _, _, text in numbered_blocks(source_text)]


def numbered_blocks(source_text: str) -> list[tuple[int, str, str]]:
    """A source's title (number 0) and body blocks: (paragraph number, "ul"/"ol"/"", plain text)."""
    split = split_front_matter(source_text)
    if isinstance(split, str):
        return [(0, "", source_text)]
    front, body, first_line = split
    tree, _ = yamlsafe.load(front)
    title = tree.value.get("title") if tree is not None and isinstance(tree.value, dict) else None
    title = title.value if title is not None and isinstance(title.value, str) else ""
    rendered = markdown.render(body, first_line)
    out = [(0, "", title)]
    for number, html in markdown.paragraphs(rendered.html):
        kind = _LIST.match(re.sub(r"^<div[^>]*>\s*", "", html))
        out.append((number, kind[1] if kind else "", _text(html)))
    return out


def compare(older: str, newer: str) -> Changes:
    """The changed paragraphs between two source texts."""
    old_tokens = _tokens(blocks(older))
    newer_blocks = numbered_blocks(newer)
    new_tokens = _tokens([text for _, _, text in newer_blocks])
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    paragraphs: list[Paragraph] = []
    current: list[Piece] = []
    number = 0
    changed = False
    deleted = inserted = 0

    def add(kind: str, words: list[str]) -> None:
        text = " ".join(words)
        if current and current[-1].kind == kind:
            current[-1] = Piece(kind, current[-1].text + " " + text)
        else:
            current.append(Piece(kind, text))

    def close() -> None:
        nonlocal current, changed, number
        if changed:
            real, kind, _ = newer_blocks[number]
            paragraphs.append(Paragraph(real, tuple(current), kind))
        current, changed = [], False
        number += 1

    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            words = [t for t in old_tokens[a1:a2] if t != _BREAK]
            if words:
                add("deleted", words)
                changed = True
                deleted += sum(1 for w in words if w != ITEM)
        if op in ("equal", "insert", "replace"):
            kind = "same" if op == "equal" else "inserted"
            run: list[str] = []
            for token in new_tokens[b1:b2]:
                if token == _BREAK:
                    if run:
                        add(kind, run)
                        changed = changed or kind == "inserted"
                        run = []
                    close()
                else:
                    run.append(token)
                    if kind == "inserted" and token != ITEM:
                        inserted += 1
            if run:
                add(kind, run)
                changed = changed or kind == "inserted"
    close()
    return Changes(tuple(paragraphs), deleted, inserted)


def _tokens(texts: list[str]) -> list[str]:
    tokens: list[str] = []
    for text in texts:
        tokens.extend(_WORD.findall(text))
        tokens.append(_BREAK)
    return tokens


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


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())
