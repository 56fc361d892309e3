"""`speechgen check`: everything a build validates, plus every internal link and anchor and every QR
code read back, with no output and nothing written into the project."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from pathlib import Path

from speechgen import scaffold
from speechgen.build import Report, build
from speechgen.config import Config, key_line
from speechgen.errors import Problem
from speechgen.graph import MANIFEST, NOT_FOUND, file_of
from speechgen.reader import misplaced
from speechgen.templates import site_words


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


def check_project(config: Config, *, drafts: bool = False,
                  warnings: list[Problem] | None = None) -> tuple[Report, list[Problem]]:
    """Build into a private folder with the cache read-only, then check what was built. Writes
    nothing into the project (nor anywhere but a temporary folder it removes). Placeholders
    left from `speechgen init` go to `warnings`."""
    found: list[Problem] = []

    def inspect(folder: Path, site) -> None:
        found.extend(broken_links(folder) + qr_round_trip(folder))
        if warnings is not None:
            warnings.extend(placeholders(site))

    report = build(config, drafts=drafts, write=False, inspect=inspect)
    if warnings is not None:           # files that look like speeches where none is read
        warnings.extend(misplaced(config))
    if warnings is not None:           # an embargo left in place would hold back a later edit's moment
        warnings.extend(Problem(path, line, f"embargo {moment} has passed and is still set: the speech is public; "
                                "remove `embargo:` (embargo sudah lewat, hapus baris ini)")
                        for path, line, moment in report.embargo_passed)
    return report, found


EXAMPLE_DOMAINS = ("example", "example.com", "example.net", "example.org", "test", "invalid", "localhost")


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return 1


def placeholders(site) -> list[Problem]:
    """What `speechgen init` wrote for the user to replace, still there: an example address
    (RFC 2606) that cards would print, no publisher, the sample speaker, title, text or recipient."""
    config = site.config
    found = []
    if (words := site_words(config.words).warning(config.site.languages)) is not None:
        found.append(Problem(str(config.path), key_line(config.path, "site", "languages"), words))
    host = (urlsplit(config.site.base_url).hostname or "").lower()
    labels = host.split(".")
    if any(label in ("example", "invalid", "test") for label in labels) or host in EXAMPLE_DOMAINS:
        found.append(Problem(str(config.path), key_line(config.path, "site", "base_url"),
                             f"[site] base_url {config.site.base_url!r} is an example address: QR cards "
                             "printed now would lead nowhere; set the site's real https address"))
    if not config.site.publisher.strip():
        found.append(Problem(str(config.path), key_line(config.path, "site", "publisher"),
                         "[site] publisher is empty: PDFs, cards and pages name no publisher"))
    for speech in site.speeches:
        for version in speech.versions.values():
            for what, value, placeholder in (("speaker", version.speaker, scaffold.PLACEHOLDER_SPEAKER),
                                             ("title", version.title, scaffold.PLACEHOLDER_TITLE)):
                if value == placeholder:
                    found.append(Problem(str(version.source), _line_of(version.source_text, f"{what}:"),
                                         f"{what} is still the placeholder {placeholder!r}"))
            if scaffold.PLACEHOLDER_TEXT in version.source_text:
                found.append(Problem(str(version.source), _line_of(version.source_text, scaffold.PLACEHOLDER_TEXT),
                                     "the body still holds the sample text "
                                     f"({scaffold.PLACEHOLDER_TEXT!r}): replace it with the speech"))
    for recipient in site.recipients:
        if recipient.id == scaffold.PLACEHOLDER_RECIPIENT:
            found.append(Problem(str(config.recipients_file), recipient.line,
                                 f"recipient {recipient.id!r} is the sample institution: list the real ones"))
    return found


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
