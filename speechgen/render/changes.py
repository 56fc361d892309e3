"""What an edition changed: the word-level difference between two editions' texts.

Pure: two editions' texts in, as the reader parsed them (`reader.numbered_blocks`: the title and
each block of the body as rendered, in plain text), the changed paragraphs out, each a run of
pieces kept, deleted or inserted. The changes page template shows them with <del> and <ins> (and
words for screen readers); the comparison is of what a reader reads, not of markup.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from speechgen.markdown import ITEM
from speechgen.model import Blocks

_BREAK = "\n"                    # a token between paragraphs
_WORD = re.compile(r"\S+")


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


def compare(older: Blocks, newer_blocks: Blocks) -> Changes:
    """The changed paragraphs between two editions' texts (each `reader.numbered_blocks`)."""
    old_tokens = _tokens([text for _, _, text in older])
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
