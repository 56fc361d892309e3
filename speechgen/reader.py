"""Finds sources, splits front matter keeping line numbers, validates, renders Markdown.

Every problem in every file is collected, then reported at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechgen import markdown, yamlsafe
from speechgen.config import Config
from speechgen.errors import Problems, SourceError
from speechgen.model import Recipient, Sources, Speech, Version

# 512 KiB is ~12x the longest speech we know; it bounds the worst Markdown case to seconds.
MAX_SOURCE_BYTES = 512 * 1024
# A slug or recipient id is one plain path segment: it can never climb out of its folder.
SEGMENT_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?\Z")
SEGMENT_RULE = "a plain path segment: lowercase letters a-z, digits and hyphens, at most 80"
SOURCE_NAME_RE = re.compile(r"^(?P<stem>[^.]+)\.(?P<lang>[A-Za-z0-9-]+)\.md\Z")
YEAR_RE = re.compile(r"^\d{4}\Z")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")

TEXT_KEYS = ("title", "subtitle", "speaker", "occasion", "place")
FRONT_MATTER_KEYS = TEXT_KEYS + ("date", "slug", "language", "recipients", "status")
REQUIRED_KEYS = ("title", "speaker", "date")
STATUSES = ("published", "draft")


@dataclass(frozen=True)
class _Parsed:
    """One source file, validated on its own; joined with its translations afterwards."""

    path: Path
    year: str
    stem: str
    slug: str
    status: str
    recipients: tuple[str, ...]
    recipients_line: int | None
    version: Version


Render = Callable[[str, int], markdown.Rendered]     # (body, its first line) -> rendered


def read_project(config: Config, *, drafts: bool = False, problems: Problems | None = None,
                 render: Render = markdown.render) -> Sources:
    """Every source, validated. With `problems`, problems are added there and the caller raises;
    `render` turns a body into HTML (the build passes one that remembers earlier bodies)."""
    own = problems is None
    problems = Problems(config.root) if problems is None else problems
    recipients = read_recipients(config, problems)
    parsed = [p for path in find_sources(config, problems)
              if (p := read_source(path, config, problems, render)) is not None]
    speeches = _join_translations(parsed, config, problems)
    _check_recipient_refs(parsed, recipients, config, problems)
    static = _static_files(config, problems)
    _check_local_refs(speeches, config, static, problems)
    if own:
        problems.raise_if_any(SourceError)
    if not drafts:
        speeches = [s for s in speeches if s.status != "draft"]
    speeches.sort(key=lambda s: (s.date, s.id), reverse=True)
    return Sources(tuple(speeches), tuple(recipients), tuple(static))


def find_sources(config: Config, problems: Problems) -> list[Path]:
    root = config.speeches_dir
    if not root.is_dir():
        problems.add(root, None, "folder not found: speeches go in speeches/<year>/<name>.<lang>.md")
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        rel = path.relative_to(root)
        if path.suffix != ".md":
            continue
        if len(rel.parts) != 2 or not YEAR_RE.match(rel.parts[0]):
            problems.add(path, None, "speech sources belong in speeches/<year>/<name>.<lang>.md "
                         "(e.g. speeches/2025/pidato-kenegaraan.id.md)")
            continue
        if not SOURCE_NAME_RE.match(path.name):
            problems.add(path, None, "file name must be <name>.<lang>.md, e.g. pidato-kenegaraan.id.md")
            continue
        found.append(path)
    return found


def split_front_matter(text: str) -> tuple[str, str, int] | str:
    """Returns (yaml, body, body's first line) or an error message for the file's first line."""
    if text.startswith("\ufeff"):
        return "file starts with a byte-order mark (BOM); save it as UTF-8 without BOM"
    lines = text.split("\n")
    if lines[0].rstrip("\r") != "---":
        if lines[0].strip() == "" and any(line.rstrip("\r") == "---" for line in lines[:5]):
            return "front matter must start on the first line with '---' (remove the blank lines before it)"
        return "missing front matter: the file must start with a '---' line, then YAML, then '---'"
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    return "unterminated front matter: no closing '---' line (did you forget it?)"


def read_source(path: Path, config: Config, problems: Problems,
                render: Render = markdown.render) -> _Parsed | None:
    raw = path.read_bytes()
    if len(raw) > MAX_SOURCE_BYTES:
        problems.add(path, None, f"file is {len(raw):,} bytes; the limit is {MAX_SOURCE_BYTES:,}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add(path, line, f"not UTF-8 at byte {exc.start}; save the file as UTF-8")
        return None
    if "\x00" in text:
        problems.add(path, text[: text.index("\x00")].count("\n") + 1, "file contains a NUL character")
        return None
    split = split_front_matter(text)
    if isinstance(split, str):
        problems.add(path, 1, split)
        return None
    yaml_text, body, body_line = split
    tree, yaml_problems = yamlsafe.load(yaml_text, first_line=2)   # after the opening '---'
    for p in yaml_problems:
        problems.add(path, p.line or 1, p.message)
    if yaml_problems:
        return None
    if tree is None or not isinstance(tree.value, dict):
        problems.add(path, tree.line if tree else 2, "front matter must be a mapping of keys such as `title: ...`")
        return None
    fm: dict[str, yamlsafe.Located] = tree.value
    count = len(problems.items)

    def line_of(key: str) -> int:
        return fm[key].line if key in fm else 1

    def err(key: str, message: str) -> None:
        problems.add(path, line_of(key), message)

    for key in fm:
        if key not in FRONT_MATTER_KEYS:
            err(key, f"unknown front matter key {key!r}; expected one of: {', '.join(FRONT_MATTER_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in fm:
            problems.add(path, 1, f"front matter is missing the required key {key!r}")
    values: dict[str, str] = {}
    for key in TEXT_KEYS + ("slug", "status", "language"):
        if key in fm:
            value = fm[key].value
            if not isinstance(value, str):
                err(key, f"{key} must be text, not {_kind(value)}"
                         + (" (put it in quotes)" if isinstance(value, (bool, int, float)) else ""))
            elif not value.strip():
                if key in REQUIRED_KEYS or key == "slug":   # an empty optional key counts as absent
                    err(key, f"{key} must not be empty")
            else:
                values[key] = value.strip()

    match = SOURCE_NAME_RE.match(path.name)
    assert match  # find_sources only yields matching names
    stem, lang = match["stem"], match["lang"]
    if lang not in config.site.languages:
        problems.add(path, 1, f"language {lang!r} (from the file name) is not in [site] languages "
                     f"{list(config.site.languages)} of speechgen.toml")
    if "language" in values and values["language"] != lang:
        err("language", f"language {values['language']!r} does not match the file name's {lang!r}")

    date = None
    if "date" in fm:
        raw_date = fm["date"].value
        if not isinstance(raw_date, str) or not DATE_RE.match(raw_date):
            err("date", f"date {raw_date!r} must be written YYYY-MM-DD, e.g. 2025-08-15")
        else:
            try:
                date = dt.date.fromisoformat(raw_date)
            except ValueError:
                err("date", f"date {raw_date} is not a real day")
    year = path.parent.name
    if date is not None and str(date.year) != year:
        err("date", f"date {date} is not in {year}, the folder the file is in")

    slug = values.get("slug", stem)
    if not SEGMENT_RE.match(slug):
        if "slug" in fm:
            err("slug", f"slug {slug!r} must be {SEGMENT_RULE}")
        else:
            problems.add(path, 1, f"file name {stem!r} is not a valid slug; rename the file "
                         f"or set `slug:` ({SEGMENT_RULE})")
    status = values.get("status", "published")
    if status not in STATUSES:
        err("status", f"status {status!r} must be one of: {', '.join(STATUSES)}")

    recipients: tuple[str, ...] = ()
    if "recipients" in fm:
        items = fm["recipients"].value
        if not isinstance(items, list) or not all(isinstance(i.value, str) for i in items):
            err("recipients", "recipients must be a list of recipient ids or group names")
        else:
            recipients = tuple(i.value for i in items)

    if len(problems.items) > count or date is None:
        return None
    rendered = render(body, body_line)
    version = Version(
        lang=lang, title=values["title"], speaker=values["speaker"], date=date,
        source=path, source_text=text, body_html=rendered.html,
        headings=tuple(rendered.headings), subtitle=values.get("subtitle", ""),
        occasion=values.get("occasion", ""), place=values.get("place", ""),
        summary=_shorten(rendered.summary, 240),
        images=tuple(src for src, _, _ in rendered.images),
    )
    for src, alt, line in rendered.images:
        if not alt.strip():
            problems.add(path, line, f"image {src!r} has no alt text: write ![what it shows]({src})")
    return _Parsed(path, year, stem, slug, status, recipients,
                   line_of("recipients") if "recipients" in fm else None, version)


def _join_translations(parsed: list[_Parsed], config: Config, problems: Problems) -> list[Speech]:
    groups: dict[tuple[str, str], list[_Parsed]] = {}
    for p in parsed:
        groups.setdefault((p.year, p.stem), []).append(p)
    speeches = []
    order = {lang: i for i, lang in enumerate(config.site.languages)}
    for files in groups.values():
        files.sort(key=lambda p: order.get(p.version.lang, 99))
        first = files[0]
        for other in files[1:]:
            for what, a, b in (("slug", first.slug, other.slug), ("date", first.version.date, other.version.date)):
                if a != b:
                    problems.add(other.path, 1, f"{what} {b} differs from {a} in its translation "
                                 f"{first.path.name}; translations share one {what}")
        recipients = next((p.recipients for p in files if p.recipients), ())
        speeches.append(Speech(
            year=first.year, slug=first.slug,
            versions={p.version.lang: p.version for p in files},
            recipients=recipients, status=first.status))
    return speeches


def read_recipients(config: Config, problems: Problems) -> list[Recipient]:
    path = config.recipients_file
    if not path.exists():
        return []
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(path, None, f"not UTF-8 at byte {exc.start}")
        return []
    tree, yaml_problems = yamlsafe.load(text)
    for p in yaml_problems:
        problems.add(path, p.line, p.message)
    if yaml_problems or tree is None:
        return []
    if not isinstance(tree.value, dict) or "recipients" not in tree.value \
            or not isinstance(tree.value["recipients"].value, list):
        problems.add(path, 1, "expected `recipients:` followed by a list of {id, name, group}")
        return []
    recipients: list[Recipient] = []
    seen: dict[str, int] = {}
    allowed = ("id", "name", "group", "short_name", "address")
    for item in tree.value["recipients"].value:
        if not isinstance(item.value, dict):
            problems.add(path, item.line, "each recipient must be a mapping with id, name and group")
            continue
        fields: dict[str, Any] = {}
        bad = False
        for key, located in item.value.items():
            if key not in allowed:
                problems.add(path, located.line, f"unknown recipient key {key!r}; expected one of: {', '.join(allowed)}")
                bad = True
            elif not isinstance(located.value, str) or not located.value.strip():
                problems.add(path, located.line, f"recipient {key} must be non-empty text")
                bad = True
            else:
                fields[key] = located.value.strip()
        for key in ("id", "name"):
            if key not in item.value:
                problems.add(path, item.line, f"recipient is missing {key!r}")
                bad = True
        if bad:
            continue
        rid = fields["id"]
        line = item.value["id"].line
        if not SEGMENT_RE.match(rid):
            problems.add(path, line, f"recipient id {rid!r} must be {SEGMENT_RULE}")
            continue
        if rid in seen:
            problems.add(path, line, f"duplicate recipient id {rid!r} (first on line {seen[rid]})")
            continue
        seen[rid] = line
        recipients.append(Recipient(line=line, **fields))
    return recipients


def _check_recipient_refs(parsed: list[_Parsed], recipients: list[Recipient], config: Config,
                          problems: Problems) -> None:
    known = {r.id for r in recipients} | {r.group for r in recipients if r.group}
    for p in parsed:
        for ref in p.recipients:
            if ref not in known:
                problems.add(p.path, p.recipients_line,
                             f"unknown recipient or group {ref!r}; not in {config.recipients_file.name}")


def _static_files(config: Config, problems: Problems) -> list[Path]:
    root = config.static_dir
    if root.is_symlink() or (root.exists() and not root.resolve().is_relative_to(config.root.resolve())):
        problems.add(root, None, "must be a folder inside the project, not a link out of it; "
                     "nothing outside the project is published")
        return []
    if not root.is_dir():
        return []
    real_root = root.resolve()
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            if not path.resolve().is_relative_to(real_root):
                problems.add(path, None, "links to a file outside static/; copy the file in instead")
                continue
            files.append(path)
    return files


def _check_local_refs(speeches: list[Speech], config: Config, static: list[Path], problems: Problems) -> None:
    """Images must be files in the project's static/ folder: no request leaves the site."""
    available = {"/" + p.relative_to(config.root).as_posix(): p for p in static}
    checked: dict[str, str | None] = {}
    for speech in speeches:
        for version in speech.versions.values():
            for src in version.images:
                if src not in available:
                    problems.add(version.source, None,
                                 f"image {src!r} not found: images must be files in static/, "
                                 "written as /static/<file>")
                    continue
                if src not in checked:
                    checked[src] = _image_problem(available[src])
                if checked[src]:
                    problems.add(version.source, None, f"image {src!r} {checked[src]}")


IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
IMAGE_MAX_PIXELS = 40_000_000    # 8000x5000: more is a decompression bomb, not a photograph


def _image_problem(path: Path) -> str | None:
    """Read only the header: a raster image must be a known format and of a sane size before a
    browser or the PDF renderer decodes it. SVG is drawn as an image, without scripts."""
    if path.suffix.lower() == ".svg":
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            width, height = image.size
    except Image.DecompressionBombError:      # Pillow refuses it outright: far over any sane size
        return f"has too many pixels to open safely; the limit is {IMAGE_MAX_PIXELS:,} pixels"
    except (UnidentifiedImageError, OSError):
        return f"is not a {', '.join(IMAGE_FORMATS)} or SVG image"
    if width * height > IMAGE_MAX_PIXELS:
        return f"is {width}x{height} pixels; the limit is {IMAGE_MAX_PIXELS:,} pixels"
    return None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return type(value).__name__


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
