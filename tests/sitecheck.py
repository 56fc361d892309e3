"""Reads a built site the way a browser would: every link and asset must resolve on disk."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []   # (tag, attribute, value)
        self.ids: set[str] = set()
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if "id" in d:
            self.ids.add(d["id"])
        for attr in ("href", "src"):
            if d.get(attr) is not None:
                # a <link> loads only as a stylesheet, icon, preload or manifest
                kind = f"link:{d.get('rel', '')}" if tag == "link" else tag
                self.refs.append((kind, attr, d[attr]))
        if tag == "script":
            self.scripts.append(d)


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path) -> list[str]:
    """Relative links whose target file (or #anchor in it) does not exist."""
    problems = []
    parsed = {p: parse(p) for p in site.rglob("*.html")}
    for page, links in parsed.items():
        if page.name == "404.html":
            continue   # linked from the site's root path: checked on its own
        for tag, attr, ref in links.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path))
            target = Path(posixpath.normpath(target.as_posix()))
            if target.is_dir():
                problems.append(f"{page.relative_to(site)}: {ref} points at a folder (no index.html)")
                continue
            if not target.is_file():
                problems.append(f"{page.relative_to(site)}: {ref} not found")
                continue
            if not target.resolve().is_relative_to(site.resolve()):
                problems.append(f"{page.relative_to(site)}: {ref} leaves the site")
            if parts.fragment and target.suffix == ".html":
                ids = parsed.get(target) or parse(target)
                if unquote(parts.fragment) not in ids.ids:
                    problems.append(f"{page.relative_to(site)}: {ref} anchor not found")
    return problems


def external_refs(site: Path) -> list[str]:
    """src/href="http..." that a browser would load (not plain links to read elsewhere)."""
    out = []
    for page in site.rglob("*.html"):
        for tag, attr, ref in parse(page).refs:
            loads = attr == "src" or (tag.startswith("link:") and any(
                rel in tag for rel in ("stylesheet", "icon", "preload", "manifest")))
            if loads and (urlsplit(ref).scheme or ref.startswith("//")):
                out.append(f"{page.relative_to(site)}: {tag} {attr}={ref}")
    return out
