"""Finds sources, splits front matter keeping line numbers, validates, renders Markdown.

Every problem in every file is collected, then reported at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechgen import markdown, yamlsafe
from speechgen.config import Config, Unreadable, read_capped
from speechgen.errors import Problem, Problems, SourceError
from speechgen.model import Blocks, Correction, Recipient, Sources, Speech, Version, Withdrawal

# 512 KiB is ~12x the longest speech we know; it bounds the worst Markdown case to seconds.
MAX_SOURCE_BYTES = 512 * 1024
# 10,000 institutions with names, groups and addresses take about 2 MB; 50,000 fit.
MAX_RECIPIENTS_BYTES = 8 * 1024 * 1024
# A slug or recipient id is one plain path segment: it can never climb out of its folder.
SEGMENT_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?\Z")
SEGMENT_RULE = "a plain path segment: lowercase letters a-z, digits and hyphens, at most 80"
SOURCE_NAME_RE = re.compile(r"^(?P<stem>[^.]+)\.(?P<lang>[A-Za-z0-9-]+)\.md\Z")
YEAR_RE = re.compile(r"^\d{4}\Z")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")

# Names no Windows host (and no archive unpacked there) can store as a file or folder, with any
# extension: CON, CON.txt and con/ alike.
RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$"}
                           | {f"{d}{n}" for d in ("com", "lpt") for n in "0123456789¹²³"})
# Characters a file name cannot hold on Windows (besides controls), or that end one there.
_UNSTORABLE = set('<>:"\\|?*')

# Static files a site may publish, by suffix: images, documents, media, fonts and stylesheets.
# Anything a browser could run as a page or script on the site's address (HTML, JavaScript,
# XML, a compressed SVG nobody can read first) is left out; an SVG is read and must have no script.
STATIC_TYPES = {
    "images": (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".svg"),
    "documents": (".pdf", ".txt", ".csv", ".odt", ".ods", ".odp", ".doc", ".docx", ".xls",
                  ".xlsx", ".ppt", ".pptx", ".epub", ".zip"),
    "audio and video": (".mp3", ".m4a", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mp4",
                        ".m4v", ".webm", ".ogv", ".vtt"),
    "fonts": (".woff", ".woff2", ".ttf", ".otf"),
    "stylesheets": (".css",),
}
STATIC_SUFFIXES = frozenset(s for group in STATIC_TYPES.values() for s in group)
# A name holding one of these anywhere (`x.php.png`, `x.html.pdf`) is served as a page or run as a
# program by some servers, whatever its last suffix.
_ACTIVE_SUFFIXES = frozenset((".html", ".htm", ".xhtml", ".shtml", ".js", ".mjs", ".php", ".phtml",
                              ".php3", ".php4", ".php5", ".phar", ".cgi", ".pl", ".py", ".asp",
                              ".aspx", ".jsp", ".xml", ".xsl", ".xslt", ".svgz", ".swf", ".htaccess"))
MAX_SVG_BYTES = 16 * 1024 * 1024

TEXT_KEYS = ("title", "subtitle", "speaker", "occasion", "place")
FRONT_MATTER_KEYS = TEXT_KEYS + ("date", "slug", "language", "recipients", "status", "corrections", "summary",
                                 "withdrawn", "aliases", "embargo")
MAX_SUMMARY = 300                # characters: a link preview shows about two lines of it
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
    images: tuple[tuple[str, int], ...] = ()      # (src, line) of every image the body shows
    withdrawn: Withdrawal | None = None
    aliases: tuple[tuple[str, int], ...] = ()     # (old id, line) of every `aliases:` entry


Render = Callable[[str, int], markdown.Rendered]     # (body, its first line) -> rendered
Read = Callable[[Path, Config, Problems, Render], "_Parsed | None"]     # one source, as read_source


def read_project(config: Config, *, drafts: bool = False, problems: Problems | None = None,
                 render: Render = markdown.render, read: Read | None = None) -> Sources:
    """Every source, validated. With `problems`, problems are added there and the caller raises;
    `render` turns a body into HTML (the build passes one that remembers earlier bodies), and
    `read` reads one source (the build passes one that remembers sources it read unchanged)."""
    read = read or read_source
    own = problems is None
    problems = Problems(config.root) if problems is None else problems
    _resolved.cache_clear()                    # a long-running serve may see the folder moved
    _real_folder.cache_clear()
    recipients = read_recipients(config, problems)
    parsed = [p for path in find_sources(config, problems)
              if (p := read(path, config, problems, render)) is not None]
    speeches = _join_translations(parsed, config, problems)
    _check_recipient_refs(parsed, recipients, config, problems)
    static = _static_files(config, problems)
    _check_local_refs(parsed, config, static, problems)
    if own:
        problems.raise_if_any(SourceError)
    left_out = () if drafts else tuple(sorted(shown(v.source, config.root) for s in speeches
                                              if s.status == "draft" for v in s.versions.values()))
    if not drafts:
        speeches = [s for s in speeches if s.status != "draft"]
    speeches.sort(key=lambda s: (s.date, s.id), reverse=True)
    return Sources(tuple(speeches), tuple(recipients), tuple(static), drafts=left_out)


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
        if not _utf8(rel.as_posix()):
            _add(problems, path, config, "file name is not UTF-8; rename the file")
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


MARKDOWN_SUFFIXES = (".markdown", ".mdown", ".mkd", ".mkdn")    # Markdown, but not read as a speech


def misplaced(config: Config) -> list[Problem]:
    """Files that look like speeches where none is read, each with the place it belongs: a
    `.md` with front matter in the project folder itself, and, under speeches/, a Markdown file
    whose name does not end in `.md` (`.markdown`, `.MD`). Warnings: the build goes on."""
    found = []
    where = "speeches/<year>/<name>.<lang>.md"
    try:
        top = sorted(p for p in config.root.iterdir() if p.suffix.lower() in (".md", *MARKDOWN_SUFFIXES))
    except OSError:
        top = []
    for path in top:
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError:
            continue
        if head.startswith(b"---") and b"\ntitle:" in head:
            stem = path.name.split(".")[0]
            match = SOURCE_NAME_RE.match(path.name)
            lang = match["lang"] if match else config.site.default_language
            found.append(Problem(str(path), None, f"looks like a speech but is not read: speeches belong in "
                                 f"{where}, e.g. speeches/<year>/{stem}.{lang}.md (bukan tempatnya)"))
    wrong = (*MARKDOWN_SUFFIXES, ".md")
    for folder, dirs, files in os.walk(config.speeches_dir):     # names only: the archive's speeches
        dirs[:] = [d for d in dirs if not d.startswith(".")]      # are thousands, read on every build
        for name in files:
            lower = name.lower()
            if name.startswith(".") or name.endswith(".md") or not lower.endswith(wrong):
                continue
            path = Path(folder, name)
            if path.is_file():
                found.append(Problem(str(path), None, f"not read: speech files end in .md, as {where}; "
                                     f"rename it {path.stem}.md (nama berkas harus berakhiran .md)"))
    return sorted(found, key=lambda problem: problem.path)


def bodies(config: Config, paths: Iterable[Path] | None = None,
           skip: Callable[[Path], bool] | None = None) -> Iterator[tuple[Path, str, int]]:
    """Each source's Markdown body with the line it starts on (every source, or those of `paths`,
    less those `skip` names), one at a time, for rendering ahead of reading (in worker processes);
    a source that cannot be read or split is left to `read_source`, which says why."""
    ignored = Problems(config.root)
    _resolved.cache_clear()
    _real_folder.cache_clear()
    for path in find_sources(config, ignored) if paths is None else paths:
        if skip is not None and skip(path):
            continue
        raw = read_project_file(path, config, ignored, MAX_SOURCE_BYTES)
        try:
            split = split_front_matter(raw.decode("utf-8")) if raw is not None else None
        except UnicodeDecodeError:
            continue
        if isinstance(split, tuple):
            yield path, split[1], split[2]


_LIST = re.compile(r"<(ul|ol)\b")


def numbered_blocks(source_text: str) -> Blocks:
    """A source's title (number 0) and body blocks, as a changes page compares them: (paragraph
    number, "ul"/"ol"/"", plain text, a list's items each after `markdown.ITEM`)."""
    split = split_front_matter(source_text)
    if isinstance(split, str):
        return ((0, "", source_text),)
    front, body, first_line = split
    tree, _ = yamlsafe.load(front)
    title = tree.value.get("title") if tree is not None and isinstance(tree.value, dict) else None
    title = title.value if title is not None and isinstance(title.value, str) else ""
    rendered = markdown.render(body, first_line)
    out = [(0, "", title)]
    for number, html in markdown.paragraphs(rendered.html):
        kind = _LIST.match(re.sub(r"^<div[^>]*>\s*", "", html))
        out.append((number, kind[1] if kind else "", markdown.block_text(html)))
    return tuple(out)


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
    raw = read_project_file(path, config, problems, MAX_SOURCE_BYTES)
    if raw is None:
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

    meant: set[str] = set()              # a required key a typo stands for: one problem, not two
    for key in fm:
        if key not in FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(str(key), [k for k in FRONT_MATTER_KEYS if k not in fm], n=1)
            meant.update(close)
            err(key, f"unknown front matter key {key!r}; " + (
                f"did you mean {close[0]!r}? (maksud Anda {close[0]!r}?)" if close else
                f"expected one of: {', '.join(FRONT_MATTER_KEYS)}"))
    for key in REQUIRED_KEYS:
        if key not in fm and key not in meant:
            problems.add(path, 1, f"front matter is missing the required key {key!r}")
    values: dict[str, str] = {}
    for key in TEXT_KEYS + ("slug", "status", "language", "summary"):
        if key in fm:
            value = fm[key].value
            if not isinstance(value, str):
                err(key, f"{key} must be text, not {_kind(value)}"
                         + (" (put it in quotes)" if isinstance(value, (bool, int, float)) else ""))
            elif (unseen := text_problem(value)) is not None:
                err(key, f"{key} {unseen}")
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
    if date is not None and f"{date.year:04d}" != year:
        err("date", f"date {date} is not in {year}, the folder the file is in")

    slug = values.get("slug", stem)
    if not SEGMENT_RE.match(slug):
        if "slug" in fm:
            err("slug", f"slug {slug!r} must be {SEGMENT_RULE}")
        else:
            problems.add(path, 1, f"file name {stem!r} is not a valid slug; rename the file "
                         f"or set `slug:` ({SEGMENT_RULE})")
    elif reserved_name(slug):
        where = "slug" if "slug" in fm else "file name"
        message = (f"{where} {slug!r} {RESERVED_RULE}; "
                   + ("choose another slug" if "slug" in fm else "rename the file or set `slug:`"))
        if "slug" in fm:
            err("slug", message)
        else:
            problems.add(path, 1, message)
    if len(values.get("summary", "")) > MAX_SUMMARY:
        err("summary", f"summary has {len(values['summary'])} characters; keep it to {MAX_SUMMARY} "
                       "(it is what link previews and search engines show)")
    status = values.get("status", "published")
    if status not in STATUSES:
        err("status", f"status {status!r} must be one of: {', '.join(STATUSES)}")

    recipients: tuple[str, ...] = ()
    if "recipients" in fm:
        items = fm["recipients"].value
        if not isinstance(items, list) or not all(isinstance(i.value, str) for i in items):
            err("recipients", "recipients must be a list of recipient ids or group names")
        else:
            for item in items:
                if (unseen := text_problem(item.value)) is not None:
                    problems.add(path, item.line, f"recipient {item.value!r} {unseen}")
            recipients = tuple(i.value for i in items)

    corrections = _corrections(fm, date, config, path, problems) if "corrections" in fm else ()
    withdrawn = _withdrawal(fm, date, config, path, problems) if "withdrawn" in fm else None
    aliases = _aliases(fm, year, slug, path, problems) if "aliases" in fm else ()
    embargo = embargo_moment(fm["embargo"].value, path, fm["embargo"].line, problems) if "embargo" in fm else None

    if len(problems.items) > count or date is None:
        return None
    rendered = render(body, body_line)
    version = Version(
        lang=lang, title=values["title"], speaker=values["speaker"], date=date,
        source=path, source_text=text, body_html=rendered.html,
        headings=tuple(rendered.headings), subtitle=values.get("subtitle", ""),
        occasion=values.get("occasion", ""), place=values.get("place", ""),
        summary=values.get("summary") or _shorten(rendered.summary, 240),
        images=tuple(src for src, _, _ in rendered.images),
        text_sha=text_digest(values, date, body), corrections=corrections,
        embargo=embargo, embargo_line=line_of("embargo") if embargo is not None else 0,
    )
    for src, alt, line in rendered.images:
        if not alt.strip():
            problems.add(path, line, f"image {src!r} has no alt text: write ![what it shows]({src})")
    return _Parsed(path, year, stem, slug, status, recipients,
                   line_of("recipients") if "recipients" in fm else None, version,
                   tuple((src, line) for src, _, line in rendered.images), withdrawn, aliases)


EMBARGO_EXAMPLE = "2025-08-16T09:00:00+07:00"


def embargo_moment(value: object, path: Path | str, line: int, problems: Problems) -> dt.datetime | None:
    """`embargo:` as a moment with its offset from UTC (`2025-08-16T09:00:00+07:00`, or `Z`);
    a problem at its line, and None, for anything else."""
    if not isinstance(value, str):
        problems.add(path, line, f"embargo must be a time such as {EMBARGO_EXAMPLE}, not {_kind(value)} "
                     "(waktu embargo tidak dapat dibaca)")
        return None
    text = value.strip()
    try:
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        problems.add(path, line, f"embargo {text!r} is not a time: write it as {EMBARGO_EXAMPLE} "
                     "(waktu embargo tidak dapat dibaca)")
        return None
    if "T" not in text.upper() and " " not in text:
        problems.add(path, line, f"embargo {text!r} has no time of day: write it as {EMBARGO_EXAMPLE} "
                     "(embargo perlu jam dan zona waktu)")
        return None
    if moment.tzinfo is None:
        problems.add(path, line, f"embargo {text!r} has no offset from UTC, so its moment is unknown: "
                     f"write it as {EMBARGO_EXAMPLE} (+07:00 WIB, +08:00 WITA, +09:00 WIT; "
                     "embargo perlu zona waktu)")
        return None
    return moment


def text_digest(values: dict[str, str], date: dt.date, body: str) -> str:
    """What a reader reads, digested: the texts of the front matter and the body, each line's
    trailing spaces and the line endings aside. Recipients, status and corrections are not text:
    changing them never needs a correction."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = [values.get(k, "") for k in TEXT_KEYS] + [date.isoformat(), "\n".join(lines).strip("\n")]
    return hashlib.sha256(json.dumps(text, ensure_ascii=False).encode("utf-8")).hexdigest()


CORRECTION_KEYS = ("date", "note")


def _corrections(fm: dict, date: dt.date | None, config: Config, path: Path,
                 problems: Problems) -> tuple[Correction, ...]:
    """`corrections:` - a list of `{date: YYYY-MM-DD, note: text or {lang: text}}`, oldest first;
    entry N makes edition N + 1, so its date is not before the edition it corrects."""
    items = fm["corrections"].value
    if not isinstance(items, list):
        problems.add(path, fm["corrections"].line, "corrections must be a list of entries with `date:` and `note:`")
        return ()
    made: list[Correction] = []
    for number, item in enumerate(items, 1):
        what = f"correction {number}"
        if not isinstance(item.value, dict):
            problems.add(path, item.line, f"{what} must have `date:` and `note:`, e.g. "
                         "`- date: 2025-08-20` and `note: \"...\"` on the next line")
            continue
        entry = item.value
        for key in entry:
            if key not in CORRECTION_KEYS:
                problems.add(path, entry[key].line, f"{what}: unknown key {key!r}; expected date and note")
        when = entry["date"].value if "date" in entry else None
        day = None
        if not isinstance(when, str) or not DATE_RE.match(when):
            problems.add(path, entry["date"].line if "date" in entry else item.line,
                         f"{what}: date {when!r} must be written YYYY-MM-DD, e.g. 2025-08-20")
        else:
            try:
                day = dt.date.fromisoformat(when)
            except ValueError:
                problems.add(path, entry["date"].line, f"{what}: date {when} is not a real day")
        notes = _note(entry.get("note"), what, config, path, item.line, problems)
        if day is None or notes is None:
            continue
        corrected = made[-1].date if made else date
        if corrected is not None and day < corrected:
            edition = f"edition {number} ({corrected})" if made else f"edition 1 (the speech's date, {corrected})"
            problems.add(path, entry["date"].line, f"{what} is dated {day}, before {edition}, which it corrects")
        made.append(Correction(day, notes, item.line))
    return tuple(made) if len(made) == len(items) else ()


def _withdrawal(fm: dict, date: dt.date | None, config: Config, path: Path,
                problems: Problems) -> Withdrawal | None:
    """`withdrawn: {date: YYYY-MM-DD, note: text or {lang: text}}`: when and why a released
    speech was taken out of every listing. Front matter only: it is not text (`text_digest`)."""
    located = fm["withdrawn"]
    line = located.line
    shape = ("withdrawn must be a mapping with `date:` and `note:`, e.g. `withdrawn: {date: 2025-09-01, "
             "note: \"Ditarik atas permintaan penyelenggara.\"}`")
    if not isinstance(located.value, dict):
        problems.add(path, line, shape)
        return None
    entry = located.value
    ok = True
    for key in entry:
        if key not in CORRECTION_KEYS:
            problems.add(path, entry[key].line, f"withdrawn: unknown key {key!r}; expected date and note")
            ok = False
    when = entry["date"].value if "date" in entry else None
    day = None
    if when is None:
        problems.add(path, line, "withdrawn has no `date:` (YYYY-MM-DD): the day the speech was withdrawn")
    elif not isinstance(when, str) or not DATE_RE.match(when):
        problems.add(path, entry["date"].line, f"withdrawn: date {when!r} must be written YYYY-MM-DD, e.g. 2025-09-01")
    else:
        try:
            day = dt.date.fromisoformat(when)
        except ValueError:
            problems.add(path, entry["date"].line, f"withdrawn: date {when} is not a real day")
    if day is not None and date is not None and day < date:
        problems.add(path, entry["date"].line, f"withdrawn: date {day} is before the speech's date ({date})")
        day = None
    if "note" not in entry:
        problems.add(path, line, "withdrawn has no `note:` saying why the speech was withdrawn")
        return None
    notes = _note(entry["note"], "withdrawn", config, path, line, problems, why="why it was withdrawn")
    if day is None or notes is None or not ok:
        return None
    return Withdrawal(day, notes, line)


ALIAS_RE = re.compile(r"^(?P<year>\d{4})/(?P<slug>[^/]+)\Z")


def _aliases(fm: dict, year: str, slug: str, path: Path, problems: Problems) -> tuple[tuple[str, int], ...]:
    """`aliases: ["2025/old-slug"]`: the ids a speech had before its file (or slug) was renamed.
    Every URL it had there keeps answering; its released editions stay under those ids."""
    located = fm["aliases"]
    items = located.value
    if not isinstance(items, list) or not items:
        problems.add(path, located.line, "aliases must be a list of the ids this speech had before, "
                     "e.g. `aliases: [\"2025/old-slug\"]`")
        return ()
    found: list[tuple[str, int]] = []
    for item in items:
        value = item.value
        match = ALIAS_RE.match(value) if isinstance(value, str) else None
        if match is None:
            problems.add(path, item.line, f"alias {value!r} must be a speech id <year>/<slug>, e.g. "
                         "\"2025/pidato-lama\"")
        elif not SEGMENT_RE.match(match["slug"]) or reserved_name(match["slug"]):
            problems.add(path, item.line, f"alias {value!r}: the slug must be {SEGMENT_RULE}")
        elif value == f"{year}/{slug}":
            problems.add(path, item.line, f"alias {value!r} is this speech's own id; remove it")
        elif any(value == seen for seen, _ in found):
            problems.add(path, item.line, f"alias {value!r} is listed twice")
        else:
            found.append((value, item.line))
    return tuple(found)


def _note(value, what: str, config: Config, path: Path, line: int,
          problems: Problems, why: str = "what was corrected") -> tuple[tuple[str, str], ...] | None:
    if value is None:
        problems.add(path, line, f"{what} has no `note:` saying what was corrected")
        return None
    if isinstance(value.value, str):
        pairs = [("", value.value, value.line)]
    elif isinstance(value.value, dict) and value.value:
        pairs = [(lang, v.value, v.line) for lang, v in value.value.items()]
    else:
        problems.add(path, value.line, f"{what}: note must be text, or one text per language "
                     f"({', '.join(config.site.languages)})")
        return None
    ok = True
    for lang, text, at in pairs:
        if lang and lang not in config.site.languages:
            problems.add(path, at, f"{what}: note language {lang!r} is not in [site] languages "
                         f"{list(config.site.languages)}")
            ok = False
        elif not isinstance(text, str) or not text.strip():
            problems.add(path, at, f"{what}: note must be text that says {why}")
            ok = False
        elif (unseen := text_problem(text)) is not None:
            problems.add(path, at, f"{what}: note {unseen}")
            ok = False
    return tuple((lang, text.strip()) for lang, text, _ in pairs) if ok else None


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
                    problems.add(other.path, _key_line(other.path, what), f"{what} {b} differs from {a} in its "
                                 f"translation {first.path.name}; translations share one {what} (terjemahan berbagi satu {what})")
        recipients = next((p.recipients for p in files if p.recipients), ())
        speeches.append(Speech(
            year=first.year, slug=first.slug,
            versions={p.version.lang: p.version for p in files},
            recipients=recipients, status=first.status,
            withdrawn=_joined_withdrawal(files, problems),
            aliases=tuple(dict.fromkeys(alias for p in files for alias, _ in p.aliases))))
    _check_aliases(parsed, speeches, problems)
    return speeches


def _key_line(path: Path, key: str) -> int:
    """The line of `key` in a source's front matter (1 when it is not written there): read again,
    only for the rare problem that names it."""
    try:
        split = split_front_matter(path.read_text(encoding="utf-8"))
        tree = yamlsafe.load(split[0], first_line=2)[0] if not isinstance(split, str) else None
    except (OSError, UnicodeDecodeError):
        return 1
    if tree is None or not isinstance(tree.value, dict) or key not in tree.value:
        return 1
    return tree.value[key].line


def _joined_withdrawal(files: list[_Parsed], problems: Problems) -> Withdrawal | None:
    """A withdrawal given in one language's file or in several (on one date): a note written as
    one text in a file is that file's language's note."""
    given = [p for p in files if p.withdrawn is not None]
    if not given:
        return None
    first = given[0].withdrawn
    assert first is not None
    notes: dict[str, str] = {}
    for p in given:
        w = p.withdrawn
        assert w is not None
        if w.date != first.date:
            problems.add(p.path, w.line, f"withdrawn: date {w.date} differs from {first.date} in its "
                         f"translation {given[0].path.name}; a speech is withdrawn on one day")
        for lang, text in w.notes:
            notes.setdefault(lang or p.version.lang, text)
    return Withdrawal(first.date, tuple(notes.items()), first.line, given[0].path)


def _check_aliases(parsed: list[_Parsed], speeches: list[Speech], problems: Problems) -> None:
    """An alias names a speech that is no more: not one that exists, nor one another speech claims."""
    ids = {s.id for s in speeches}
    claimed: dict[str, _Parsed] = {}
    for p in parsed:
        for alias, line in p.aliases:
            if alias in ids:
                problems.add(p.path, line, f"alias {alias!r} is the id of another speech; an alias names "
                             "the id this speech had before it was renamed")
            elif alias in claimed and claimed[alias].stem != p.stem or \
                    alias in claimed and claimed[alias].year != p.year:
                problems.add(p.path, line, f"alias {alias!r} is also claimed by {claimed[alias].path.name}; "
                             "an old id leads to one speech")
            else:
                claimed.setdefault(alias, p)


def read_recipients(config: Config, problems: Problems) -> list[Recipient]:
    path = config.recipients_file
    if not path.exists() and not path.is_symlink():
        return []
    raw = read_project_file(path, config, problems, MAX_RECIPIENTS_BYTES)
    if raw is None:
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(path, raw[: exc.start].count(b"\n") + 1, f"not UTF-8 at byte {exc.start}")
        return []
    tree, yaml_problems = yamlsafe.load(text, limit=MAX_RECIPIENTS_BYTES)
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
            elif (unseen := text_problem(located.value, lines=key == "address")) is not None:
                problems.add(path, located.line, f"recipient {key} {unseen}")
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
        if reserved_name(rid):
            problems.add(path, line, f"recipient id {rid!r} {RESERVED_RULE}; choose another id")
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
    """Every file static/ publishes, each checked: a name any host can store, a stated type, and
    for an SVG, content that cannot run on the site's address. Hidden files (`.keep`) stay out."""
    root = config.static_dir
    if root.is_symlink() or (root.exists() and not root.resolve().is_relative_to(config.root.resolve())):
        _add(problems, root, config, "must be a folder inside the project, not a link out of it; "
             "nothing outside the project is published")
        return []
    if not root.is_dir():
        return []
    real_root = root.resolve()
    files = []
    folded: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(config.root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not _utf8(rel.as_posix()):
            _add(problems, path, config, "file name is not UTF-8; rename it (a page could not name "
                 "it, nor a host store it)")
            continue
        if path.is_dir():
            continue
        if not path.is_file():
            _add(problems, path, config, "is not a regular file (a FIFO, a device, a socket or a "
                 "broken link); only ordinary files are published")
            continue
        if not path.resolve().is_relative_to(real_root):
            problems.add(path, None, "links to a file outside static/; copy the file in instead")
            continue
        problem = _name_problem(rel.parts[1:]) or _type_problem(path.name)
        if problem:
            problems.add(path, None, problem)
            continue
        key = unicodedata.normalize("NFC", rel.as_posix()).casefold()
        if key in folded:
            problems.add(path, None, f"differs from {folded[key].relative_to(config.root).as_posix()} "
                         "only by case (or by how its accents are encoded); hosts that ignore case "
                         "would keep one of them: rename one")
            continue
        folded[key] = path
        if path.suffix.lower() == ".svg":
            where = _svg_problem(path)
            if where is not None:
                problems.add(path, *where)
                continue
        files.append(path)
    return files


def _name_problem(parts: Iterable[str]) -> str | None:
    """Why a host could not store or serve a name under static/, or None."""
    for part in parts:
        bad = next((c for c in part if c in _UNSTORABLE or unicodedata.category(c) in _UNSEEN_CATEGORIES
                    or c in _FILLERS), None)
        if bad is not None:
            return (f"file name {part!r} holds {_describe(bad)}, which some hosts cannot store or a "
                    "reader cannot see; rename it")
        if part.endswith((" ", ".")):
            return f"file name {part!r} ends with a space or a dot, which Windows drops; rename it"
        if reserved_name(part):
            return f"file name {part!r} {RESERVED_RULE}; rename it"
    return None


def _type_problem(name: str) -> str | None:
    suffixes = [s.lower() for s in Path(name).suffixes]
    active = next((s for s in suffixes if s in _ACTIVE_SUFFIXES), None)
    if active is not None:
        return (f"{active} files are not published from static/: a browser or server could run "
                "them on the site's address. Allowed: " + _allowed_types())
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in STATIC_SUFFIXES:
        what = f"{suffix} files" if suffix else "files without a suffix"
        return f"{what} are not published from static/. Allowed: " + _allowed_types()
    return None


def _allowed_types() -> str:
    return "; ".join(f"{group} ({' '.join(s)})" for group, s in STATIC_TYPES.items())


_SVG_NS = "http://www.w3.org/2000/svg"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_XLINK_NS = "http://www.w3.org/1999/xlink"
# Elements that run script or hold another document, in any namespace.
_SVG_ACTIVE = {"script": "a <script> element", "foreignobject": "a <foreignObject> element (it can "
               "hold HTML and script)", "handler": "a <handler> element", "listener": "a <listener> element",
               "iframe": "an <iframe> element", "embed": "an <embed> element", "object": "an <object> element"}
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)|@import", re.IGNORECASE)


def _svg_problem(path: Path) -> tuple[int | None, str] | None:
    """(line, why) when an SVG could run script on the site's address or load anything from
    elsewhere; None for a plain drawing. Read with expat, no DTD loaded, no entity expanded."""
    from xml.parsers import expat

    try:
        data = read_capped(path, MAX_SVG_BYTES)
    except Unreadable as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found: list[tuple[int, str]] = []
    depth = [0]
    styles: list[list[str] | None] = []      # per open element: the text of a <style>, else None
    refuse = "; an SVG is published only without script, event handlers or references to other files"

    def fail(message: str) -> None:
        found.append((parser.CurrentLineNumber, message + refuse))
        raise _SvgRefused

    def doctype(name, system_id, public_id, has_internal_subset) -> None:
        if has_internal_subset:
            fail("SVG declares entities in its DOCTYPE (<!DOCTYPE ... [...]>), which can expand "
                 "without end or read other files; remove the DOCTYPE")

    def entity(*args) -> None:
        fail("SVG declares an entity (<!ENTITY>); remove the DOCTYPE")

    def instruction(target, data) -> None:
        fail(f"SVG has the processing instruction <?{target} ...?> (a stylesheet could run "
             "script); remove it")

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        depth[0] += 1
        if depth[0] == 1 and (namespace, local) != (_SVG_NS, "svg"):
            fail(f"is not an SVG image: its root element is <{local}>, not <svg> in the SVG namespace")
        if local.lower() in _SVG_ACTIVE:
            fail(f"SVG has {_SVG_ACTIVE[local.lower()]}")
        if namespace == _XHTML_NS:
            fail(f"SVG has the HTML element <{local}>")
        styles.append([] if local == "style" else None)
        for attribute, value in attributes.items():
            attr_ns, _, attr = attribute.rpartition(" ")
            if attr.lower().startswith("on"):
                fail(f"SVG has the event handler {attr}=\"{_clip(value)}\"")
            if attr == "href" and attr_ns in ("", _XLINK_NS) and not value.strip().startswith("#") \
                    and not (local == "image" and _DATA_IMAGE.match(value.strip())):
                fail(f"SVG refers to {_clip(value)!r} from <{local}>; only its own parts (#id) and "
                     "embedded PNG, JPEG, GIF or WebP images may be used")
            if attr == "attributeName" and (value.lower().startswith("on") or value.endswith("href")):
                fail(f"SVG animates the attribute {value!r} of another element")
            css = _css_reference(value)
            if css is not None:
                fail(f"SVG refers to {css!r} in its {attr} attribute; only its own parts (#id) may be used")

    def end(name: str) -> None:
        depth[0] -= 1
        style = styles.pop()
        if style is not None:
            css = _css_reference("".join(style))
            if css is not None:
                fail(f"SVG refers to {css!r} in a <style> element; only its own parts (#id) may be used")

    def text(data: str) -> None:
        if styles and styles[-1] is not None:
            styles[-1].append(data)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ProcessingInstructionHandler = instruction
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.ExternalEntityRefHandler = lambda *args: fail("SVG refers to an external entity") or 0
    try:
        parser.Parse(data, True)
    except _SvgRefused:
        return found[0]
    except expat.ExpatError as exc:
        return exc.lineno, f"is not a well-formed SVG: {expat.ErrorString(exc.code)}"
    return None


class _SvgRefused(Exception):
    pass


def _css_reference(value: str) -> str | None:
    """The first `url(...)` in CSS text that is not one of the file's own parts, or `@import`."""
    for match in _CSS_URL.finditer(value):
        if match.group(0).lower() == "@import":
            return "@import"
        target = match.group(1) or ""
        if not target.startswith("#"):
            return target or "url()"
    return None


def _check_local_refs(parsed: list[_Parsed], config: Config, static: list[Path], problems: Problems) -> None:
    """Images must be files in the project's static/ folder: no request leaves the site."""
    available = {"/" + p.relative_to(config.root).as_posix(): p for p in static}
    checked: dict[str, str | None] = {}
    for source in parsed:
        for src, line in source.images:
            if src not in available:
                problems.add(source.path, line,
                             f"image {src!r} not found: images must be files in static/, "
                             "written as /static/<file>")
                continue
            if src not in checked:
                checked[src] = _image_problem(available[src])
            if checked[src]:
                problems.add(source.path, line, f"image {src!r} {checked[src]}")


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


# --- reading a project file; text any reader sees as it is; names any host can store -----------

def read_project_file(path: Path, config: Config, problems: Problems, limit: int) -> bytes | None:
    """A source's bytes, or None with the problem added: it must be an ordinary file inside the
    project (a link may point elsewhere in it) of at most `limit` bytes. Never hangs on a FIFO,
    never reads a device or more than the limit."""
    try:
        real = _real_path(path)
    except (OSError, RuntimeError):
        _add(problems, path, config, "is a link that leads back to itself; replace it with the file")
        return None
    if not real.is_relative_to(_resolved(config.root)):
        _add(problems, path, config, "links to a file outside the project; copy the file in instead")
        return None
    try:
        return read_capped(path, limit)
    except Unreadable as exc:
        _add(problems, path, config, str(exc))
    except FileNotFoundError:
        _add(problems, path, config, "is a link to a file that does not exist")
    except OSError as exc:
        _add(problems, path, config, f"cannot be read: {exc.strerror or exc}")
    return None


@functools.lru_cache(maxsize=4)
def _resolved(root: Path) -> Path:
    """The project folder with its links followed (asked for every file read)."""
    return root.resolve()


def _real_path(path: Path) -> Path:
    """A file's path with its links followed: its folder's, asked once per folder, and the file
    itself only if it is a link (each `resolve` looks at every part of the path: a tenth of an
    edit's reading of 1,500 sources)."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return path.resolve()
    except FileNotFoundError:           # gone since it was listed: reading it says so
        return path.resolve()
    return _real_folder(path.parent) / path.name


@functools.lru_cache(maxsize=1024)
def _real_folder(folder: Path) -> Path:
    return folder.resolve()


def _add(problems: Problems, path: Path, config: Config, message: str) -> None:
    """A problem with a file whose path must be shown as it is: not followed if it is a link
    (it may lead outside the project, or back to itself), not decoded if it is not UTF-8."""
    problems.extend([Problem(shown(path, config.root), None, message)])


# Characters that do not show as themselves: controls, format characters (bidi overrides such as
# U+202E, zero-width spaces and joiners, the soft hyphen, the BOM), line and paragraph separators,
# lone surrogates, and the Hangul fillers that render as blank letters.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")


def text_problem(value: str, *, lines: bool = False) -> str | None:
    """Why a text could print other than it reads (naming the character), or None. `lines`: a
    line break is allowed (an address)."""
    for index, char in enumerate(value):
        if lines and char == "\n":
            continue
        if unicodedata.category(char) in _UNSEEN_CATEGORIES or char in _FILLERS:
            return (f"contains {_describe(char)} at character {index + 1}: it does not show, or "
                    "changes how the text around it shows, so a name could print as another; "
                    "remove it")
    return None


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    if name:
        return f"U+{ord(char):04X} ({name})"
    if unicodedata.category(char) == "Cc":
        return f"the control character U+{ord(char):04X}"
    return f"the character U+{ord(char):04X}"


RESERVED_RULE = ("is a device name Windows reserves (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with any "
                 "suffix); a copy of the site there could not hold it")


def reserved_name(name: str) -> bool:
    """A file or folder name Windows cannot store: `con`, `nul.png`, `com1.tar.gz` (case ignored)."""
    return name.split(".", 1)[0].rstrip(" ").lower() in RESERVED_NAMES


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(path: Path, root: Path | None = None) -> str:
    """A path for a message, relative to the project where it can be; bytes that are not UTF-8
    shown as \\xNN, so printing the message never fails."""
    try:
        path = path.relative_to(root) if root is not None else path
    except ValueError:
        pass
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
