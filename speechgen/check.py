"""`speechgen check`: everything a build validates, plus every internal link and anchor and every QR
code read back, with no output and nothing written into the project."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from pathlib import Path

from speechgen.build import Report
from speechgen.config import Config
from speechgen.errors import Problem
from speechgen.graph import MANIFEST, NOT_FOUND, file_of


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[int, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        for attr in ("href", "src"):
            ref = values.get(attr)
            if ref is not None and not (tag == "link" and values.get("rel") in ("canonical", "alternate")):
                self.refs.append((self.getpos()[0], ref))


def check_project(config: Config, *, drafts: bool = False) -> tuple[Report, list[Problem]]:
    """Build into a private folder with the cache read-only, then check what was built. Writes
    nothing into the project (nor anywhere but a temporary folder it removes)."""
    from speechgen.build import build

    found: list[Problem] = []

    def inspect(folder: Path) -> None:
        found.extend(broken_links(folder) + qr_round_trip(folder))

    report = build(config, drafts=drafts, write=False, inspect=inspect)
    return report, found


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def broken_links(folder: Path, skip: Iterable[str] = (NOT_FOUND,)) -> list[Problem]:
    """Relative links and anchors in the HTML files of a built site that lead nowhere in it."""
    files = _files(folder)
    ids: dict[str, set[str]] = {}

    def parse(dest: str) -> _Refs:
        parser = _Refs()
        parser.feed((folder / dest).read_bytes().decode("utf-8", "replace"))
        ids.setdefault(dest, parser.ids)
        return parser

    def ids_of(dest: str) -> set[str]:
        if dest not in ids:
            parse(dest)
        return ids[dest]

    problems = []
    skipped = set(skip)
    for dest in sorted(files):
        if not dest.endswith(".html") or dest in skipped:
            continue
        for line, ref in parse(dest).refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//") or ref.startswith("#") and not parts.fragment:
                continue
            if parts.path:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(dest), unquote(parts.path)))
                target = file_of(target + "/" if parts.path.endswith("/") else target)
            else:
                target = dest
            if target.startswith("../") or target not in files:
                problems.append(Problem(dest, line, f"link {ref!r} leads to no file in the site"))
                continue
            if parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in ids_of(target):
                problems.append(Problem(dest, line, f"link {ref!r}: no element with id "
                                        f"{unquote(parts.fragment)!r} in {target}"))
    return problems


def qr_round_trip(folder: Path) -> list[Problem]:
    """Every QR code, read back from the PNG that would be printed, opens its own copy's URL."""
    import io
    import json

    import zxingcpp                      # a reader, not the writer: decodes what qrcode drew
    from PIL import Image

    files = _files(folder)
    if MANIFEST not in files:
        return []
    problems = []
    for speech in json.loads((folder / MANIFEST).read_bytes())["speeches"]:
        for copy in speech.get("copies", []):
            png = copy["qr"]["png"]
            if png not in files:
                problems.append(Problem(png, None, "QR code missing from the build"))
                continue
            found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO((folder / png).read_bytes())))]
            if found != [copy["url"]]:
                problems.append(Problem(png, None, f"QR code reads {found!r}, expected {copy['url']!r}"))
            elif copy["path"] not in files:
                problems.append(Problem(png, None, f"QR code opens {copy['url']}, a page not in the build"))
    return problems
