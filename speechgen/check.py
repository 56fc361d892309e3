"""`speechgen check`: everything a build validates, plus every internal link and anchor, no output."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from speechgen.errors import Problem
from speechgen.model import Artifact


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


def broken_links(artifacts: Iterable[Artifact], skip: Iterable[str] = ("404.html",)) -> list[Problem]:
    """Relative links and anchors in the HTML outputs that lead nowhere in the same build."""
    files = {a.dest: a for a in artifacts}
    parsed: dict[str, _Refs] = {}

    def parse(dest: str) -> _Refs:
        if dest not in parsed:
            parser = _Refs()
            parser.feed(files[dest].data.decode("utf-8", "replace"))
            parsed[dest] = parser
        return parsed[dest]

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
                if parts.path.endswith("/"):
                    target = posixpath.join(target, "index.html")
            else:
                target = dest
            if target.startswith("../") or target not in files:
                problems.append(Problem(dest, line, f"link {ref!r} leads to no file in the site"))
                continue
            if parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in parse(target).ids:
                problems.append(Problem(dest, line, f"link {ref!r}: no element with id "
                                        f"{unquote(parts.fragment)!r} in {target}"))
    return problems


def qr_round_trip(artifacts: Iterable[Artifact]) -> list[Problem]:
    """Every QR code, read back from the PNG that would be printed, opens its own copy's URL."""
    import io
    import json

    import zxingcpp                      # a reader, not the writer: decodes what qrcode drew
    from PIL import Image

    files = {a.dest: a.data for a in artifacts}
    if "manifest.json" not in files:
        return []
    problems = []
    for speech in json.loads(files["manifest.json"])["speeches"]:
        for copy in speech.get("copies", []):
            png = copy["qr"]["png"]
            if png not in files:
                problems.append(Problem(png, None, "QR code missing from the build"))
                continue
            found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(files[png])))]
            if found != [copy["url"]]:
                problems.append(Problem(png, None, f"QR code reads {found!r}, expected {copy['url']!r}"))
            elif copy["path"] not in files:
                problems.append(Problem(png, None, f"QR code opens {copy['url']}, a page not in the build"))
    return problems
