"""Editions: released PDFs are frozen; a released text changes only with a correction.

`speechgen release` records every published speech's PDF, per language, as an edition in the
ledger (`editions.txt` at the project root, one line each, committed with the sources) and keeps
its bytes, and its source as released, in `editions/`. From then on the build serves the kept
bytes: no template, stylesheet, font or speechgen change alters them.

    # speech  lang  edition  date  sha256  bytes  pages  text-sha256  source-sha256
    2025/pidato-kenegaraan id 1 2025-08-15 9f86...  183211 9 1c4e... 77ab...
    renewal 2025/pidato-kenegaraan id 1 2026-12-06 4b2a... 191870 9f86...

A `renewal` line (written by `speechgen renew`) records a new revision of a kept edition: the
same bytes with a fresh document timestamp appended, its SHA-256 and size, and the SHA-256 of
the revision it follows (the edition's line, or the renewal before). The edition's own line
never changes; the kept file is its latest revision. A ledger without renewal lines reads as
before.

`plan` reads the ledger, checks it against the kept files and the sources, and says for each
speech and language which editions are released and which one (if any) this build makes:
a speech never released is edition 1, unreleased; a released speech whose text changed needs a
new `corrections:` entry, which makes the next edition. `record` is what `release` writes.
The commands that write the ledger, `release` and `renew`, are in `release.py`, above the build:
this module knows neither the build nor the site graph.

A released edition's bytes and its ledger line never change. `release` runs under the project's
lock, so releases (and builds into the project's `site/`) take turns; it reads the ledger again
before writing and never writes a file the ledger names; the ledger is replaced last, atomically.
`editions/` and every folder in it must be a real folder of the project, and a kept file a
regular file holding a PDF (or, for a source, text): anything else is refused, naming it.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from speechgen import reader, signing
from speechgen.config import Config, Unreadable, read_capped
from speechgen.errors import OutputError, Problem, Problems, SourceError, display_path
from speechgen.model import Edition, Sources, Speech, Version
from speechgen.writer import reason_of

LEDGER_HEADER = (
    "# speechgen editions: every released PDF, oldest first. Written by `speechgen release`;\n"
    "# each line must match the file it names under editions/ (its SHA-256 is checked on every build).\n"
    "# speech lang edition date sha256 bytes pages text-sha256 source-sha256\n"
    "# renewal speech lang edition date sha256 bytes previous-sha256   (speechgen renew)\n"
)
EDITION_WORD = "edisi"           # <slug>.<lang>.edisi-<n>.pdf: one edition's bytes, for good
RENEWAL = "renewal"              # the first word of a ledger line recording a renewed revision
MAX_LEDGER_BYTES = 64 * 1024 * 1024
MAX_PROBLEMS = 50                # a malformed ledger lists this many problems, then how many more
TEXT_HEAD = 8192                 # the bytes of a kept source looked at on every build (all of it when read)
TMP_MARK = ".release-tmp-"       # in the name of a file `release` is writing; a killed one leaves it
_HEX = re.compile(r"^[0-9a-f]{64}\Z")
Key = tuple[str, str]            # (speech id, language)
ShaOf = Callable[[Path], str | None]


@dataclass(frozen=True)
class Entry:
    """One ledger line."""

    speech: str
    lang: str
    number: int
    date: dt.date
    sha256: str
    bytes: int
    pages: int
    text_sha: str
    source_sha: str
    line: int
    revisions: tuple[Revision, ...] = ()     # renewals since, oldest first

    def text(self) -> str:
        return (f"{self.speech} {self.lang} {self.number} {self.date.isoformat()} {self.sha256} "
                f"{self.bytes} {self.pages} {self.text_sha} {self.source_sha}\n")

    @property
    def current_sha256(self) -> str:
        """The SHA-256 of the kept file: the latest revision's."""
        return self.revisions[-1].sha256 if self.revisions else self.sha256

    @property
    def current_bytes(self) -> int:
        return self.revisions[-1].bytes if self.revisions else self.bytes


@dataclass(frozen=True)
class Revision:
    """A `renewal` line: a kept edition's new revision (`speechgen renew`)."""

    speech: str
    lang: str
    number: int
    date: dt.date
    sha256: str
    bytes: int
    previous: str                # the SHA-256 of the revision it follows
    line: int

    def text(self) -> str:
        return (f"{RENEWAL} {self.speech} {self.lang} {self.number} {self.date.isoformat()} {self.sha256} "
                f"{self.bytes} {self.previous}\n")


@dataclass(frozen=True)
class Pending:
    """The edition this build makes of a text not released as it is: edition 1 of a new speech,
    or the next edition of a corrected one."""

    number: int
    date: dt.date
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Editions:
    released: Mapping[Key, tuple[Edition, ...]] = field(default_factory=dict)
    pending: Mapping[Key, Pending] = field(default_factory=dict)
    entries: tuple[Entry, ...] = ()
    # The parsed text of every edition a changes page compares, by its source's SHA-256 (`load_texts`).
    compared: Mapping[str, reader.Blocks] = field(default_factory=dict)

    def of(self, speech: Speech, lang: str) -> tuple[Edition, ...]:
        return self.released.get((speech.id, lang), ())

    def pending_of(self, speech: Speech, lang: str) -> Pending | None:
        return self.pending.get((speech.id, lang))

    def first(self, speech: Speech, lang: str) -> Edition | None:
        """The first released edition: what the cards print, for good."""
        released = self.of(speech, lang)
        return released[0] if released else None

    @property
    def unreleased(self) -> list[Key]:
        return sorted(self.pending)


def kept_name(speech_id: str, lang: str, number: int) -> str:
    """A released edition's PDF under editions/: the ledger's name for it, for good. The site
    serves the edition at the same path (`graph.edition_dest`)."""
    slug = speech_id.rsplit("/", 1)[-1]
    return f"{speech_id}/{slug}.{lang}.{EDITION_WORD}-{number}.pdf"


def kept_pdf(config: Config, speech_id: str, lang: str, number: int) -> Path:
    return config.editions_dir / kept_name(speech_id, lang, number)


def kept_source(config: Config, speech_id: str, lang: str, number: int) -> Path:
    return kept_pdf(config, speech_id, lang, number).with_suffix(".md")


# --- reading ---------------------------------------------------------------------------------------

class _Capped:
    """Where the ledger's problems go: the first MAX_PROBLEMS of them, then one line saying how
    many more. A ledger of a million bad lines is reported in 51 lines, and once that many are
    listed `plan` stops opening kept files (`full`)."""

    def __init__(self, problems: Problems, ledger: Path):
        self.problems, self.ledger = problems, ledger
        self.shown = self.more = 0
        self.unchecked_from: int | None = None      # the first ledger line whose files were not opened

    @property
    def full(self) -> bool:
        return self.shown >= MAX_PROBLEMS

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        if self.full:
            self.more += 1
        else:
            self.problems.add(path, line, message)
            self.shown += 1

    def finish(self) -> None:
        if not self.more and self.unchecked_from is None:
            return
        said = f"and {self.more:,} more problems (only the first {MAX_PROBLEMS} are listed)" if self.more \
            else f"only the first {MAX_PROBLEMS} problems are listed"
        if self.unchecked_from is not None:
            said += f"; the kept files of line {self.unchecked_from} onwards were not checked"
        self.problems.add(self.ledger, None, said)


def read_ledger(config: Config, problems: Problems | _Capped) -> list[Entry]:
    """The ledger's lines; each malformed one is a problem (at most MAX_PROBLEMS listed)."""
    capped = problems if isinstance(problems, _Capped) else _Capped(problems, config.ledger_file)
    entries = _parse_ledger(_ledger_text(config, capped) or "", config.ledger_file, capped)
    if capped is not problems:
        capped.finish()
    return entries


def read_for_writing(config: Config) -> tuple[str | None, list[Entry]]:
    """The ledger's text (None when there is none) and its lines, for a command that writes it
    (`speechgen renew`): any problem with it is raised, listed."""
    problems = Problems(config.root)
    capped = _Capped(problems, config.ledger_file)
    text = _ledger_text(config, capped)
    entries = _parse_ledger(text or "", config.ledger_file, capped)
    capped.finish()
    problems.raise_if_any()
    return text, entries


def _ledger_text(config: Config, problems: Problems | _Capped) -> str | None:
    """The ledger as text; None when there is none (or it cannot be read: then a problem says why)."""
    path = config.ledger_file
    if path.is_symlink():
        problems.add(path, None, "is a symbolic link; the editions ledger must be a file of the project "
                     "itself: replace the link with the file")
        return None
    if not path.exists():
        return None
    try:
        return read_capped(path, MAX_LEDGER_BYTES).decode("utf-8")
    except (Unreadable, OSError) as exc:
        problems.add(path, None, f"cannot read the editions ledger: {getattr(exc, 'strerror', None) or exc}")
    except UnicodeDecodeError:
        problems.add(path, None, "the editions ledger is not UTF-8 text")
    return None


def _parse_ledger(text: str, path: Path, problems: _Capped) -> list[Entry]:
    entries: list[Entry] = []
    where: dict[tuple[str, str, int], int] = {}          # (speech, lang, edition) -> index in entries
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.split(None, 1)[0] == RENEWAL:
            revision = _parse_renewal(line, number)
            if isinstance(revision, str):
                problems.add(path, number, f"{revision}; expected: renewal speech lang edition date sha256 "
                             "bytes previous-sha256 (this line is written by `speechgen renew`)")
                continue
            index = where.get((revision.speech, revision.lang, revision.number))
            if index is None:
                problems.add(path, number, f"renews {revision.speech} ({revision.lang}) edition "
                             f"{revision.number}, which no line above records")
                continue
            entry = entries[index]
            if revision.previous != entry.current_sha256:
                problems.add(path, number, f"renews {revision.speech} ({revision.lang}) edition "
                             f"{revision.number} from SHA-256 {revision.previous[:16]}..., but its latest "
                             f"revision is {entry.current_sha256[:16]}...; a renewal follows the one before it")
                continue
            if revision.date < entry.date:
                problems.add(path, number, f"renews {revision.speech} ({revision.lang}) edition "
                             f"{revision.number} on {revision.date}, before it was released ({entry.date})")
                continue
            entries[index] = dataclasses.replace(entry, revisions=entry.revisions + (revision,))
            continue
        entry = _parse(line, number)
        if isinstance(entry, str):
            problems.add(path, number, f"{entry}; expected: speech lang edition date sha256 bytes "
                         "pages text-sha256 source-sha256 (this file is written by `speechgen release`)")
        else:
            where.setdefault((entry.speech, entry.lang, entry.number), len(entries))
            entries.append(entry)
    return entries


def _parse_renewal(line: str, number: int) -> Revision | str:
    parts = line.split()
    if len(parts) != 8:
        return f"{len(parts)} fields where a renewal line has 8"
    _, speech, lang, edition, date, sha, size, previous = parts
    if not re.match(r"^\d{4}/[a-z0-9-]+\Z", speech):
        return f"speech {speech!r} is not a speech id such as 2025/pidato-kenegaraan"
    if not re.match(r"^[A-Za-z0-9-]+\Z", lang):
        return f"language {lang!r} is not a language code"
    if not all(x.isdigit() and x[0] != "0" for x in (edition, size)):
        return "edition and bytes must be whole numbers from 1"
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return f"date {date!r} is not a day written YYYY-MM-DD"
    if not all(_HEX.match(x) for x in (sha, previous)):
        return "a SHA-256 must be 64 lowercase hexadecimal digits"
    return Revision(speech, lang, int(edition), day, sha, int(size), previous, number)


def _parse(line: str, number: int) -> Entry | str:
    parts = line.split()
    if len(parts) != 9:
        return f"{len(parts)} fields where a ledger line has 9"
    speech, lang, edition, date, sha, size, pages, text_sha, source_sha = parts
    if not re.match(r"^\d{4}/[a-z0-9-]+\Z", speech):
        return f"speech {speech!r} is not a speech id such as 2025/pidato-kenegaraan"
    if not re.match(r"^[A-Za-z0-9-]+\Z", lang):
        return f"language {lang!r} is not a language code"
    if not all(x.isdigit() and x[0] != "0" for x in (edition, size, pages)):
        return "edition, bytes and pages must be whole numbers from 1"
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return f"date {date!r} is not a day written YYYY-MM-DD"
    if not all(_HEX.match(x) for x in (sha, text_sha, source_sha)):
        return "a SHA-256 must be 64 lowercase hexadecimal digits"
    return Entry(speech, lang, int(edition), day, sha, int(size), int(pages), text_sha, source_sha, number)


def plan(config: Config, sources: Sources, problems: Problems, sha_of: ShaOf,
         notice: Callable[[str], None] = lambda message: None) -> Editions:
    """The ledger checked against the kept files and the sources. Every problem names the ledger's
    line or the source's (the ledger's, MAX_PROBLEMS at most); the caller raises them with the others.
    A kept PDF left by a killed `speechgen renew` (its recorded revision followed only by the
    renewal's updates) is put back to that revision, under the project's lock (`notice` says so)."""
    ledger = config.ledger_file
    capped = _Capped(problems, ledger)
    entries = read_ledger(config, capped)
    folders = _Folders(config, capped)
    folders.refused(config.editions_dir)          # a linked editions/ is refused even with no ledger
    by_key: dict[Key, list[Entry]] = {}
    # A renamed speech's editions stay under its old id (`aliases:`), and count as its own.
    renamed = {alias: s.id for s in sources.speeches for alias in s.aliases}
    for entry in entries:
        earlier = by_key.setdefault((renamed.get(entry.speech, entry.speech), entry.lang), [])
        expected = len(earlier) + 1
        if entry.number != expected:
            capped.add(ledger, entry.line, f"{entry.speech} ({entry.lang}) edition {entry.number} "
                       f"where edition {expected} comes next; editions are numbered 1, 2, ... in order")
            continue
        if earlier and entry.date < earlier[-1].date:
            capped.add(ledger, entry.line, f"{entry.speech} ({entry.lang}) edition {entry.number} is dated "
                       f"{entry.date}, before edition {earlier[-1].number} ({earlier[-1].date})")
        if not capped.full:
            _check_kept(config, entry, capped, sha_of, folders, notice)
        elif capped.unchecked_from is None:
            capped.unchecked_from = entry.line
        earlier.append(entry)

    versions: dict[Key, tuple[Speech, Version]] = {
        (s.id, lang): (s, v) for s in sources.speeches for lang, v in s.versions.items()}
    for key, released in by_key.items():
        if key not in versions:
            first = released[0]
            capped.add(ledger, first.line, f"{key[0]} ({key[1]}) was released (edition "
                         f"{released[-1].number}) but has no published source any more; a released "
                         f"speech stays: restore its file under speeches/ (not as a draft); if it was "
                         f"renamed, list the old id in the new file: `aliases: [\"{key[0]}\"]`")

    released_map: dict[Key, tuple[Edition, ...]] = {}
    pending: dict[Key, Pending] = {}
    for key, (speech, version) in versions.items():
        made = by_key.get(key, [])
        corrections = version.corrections
        count = len(corrections)
        source = version.source
        if not made:
            if corrections:
                problems.add(source, corrections[0].line, "correction 1 corrects an edition that was never "
                             "released; until `speechgen release`, a speech changes freely: remove the entry")
            pending[key] = Pending(1, version.date)
            continue
        last = made[-1]
        changed = version.text_sha != last.text_sha
        at = f"{ledger.name} line {last.line}"
        if count < len(made) - 1:
            gone = count + 1
            problems.add(source, corrections[-1].line if corrections else 1,
                         f"edition {gone + 1} was released with correction {gone} ({made[gone].date}, "
                         f"{ledger.name} line {made[gone].line}); a released correction stays: put it back")
            continue
        for n, correction in enumerate(corrections[:len(made) - 1], 1):
            if correction.date != made[n].date:
                problems.add(source, correction.line, f"correction {n} is dated {correction.date} but edition "
                             f"{n + 1} was released dated {made[n].date} ({ledger.name} line {made[n].line}); "
                             "a released correction's date stays")
        if count > len(made):
            problems.add(source, corrections[len(made)].line, f"correction {len(made) + 1} waits for a release, "
                         f"and so does correction {len(made)}: run `speechgen release` between them, "
                         "or say both in one entry")
        elif changed and count == len(made) - 1:
            problems.add(source, 1, f"the text differs from edition {last.number}, released {last.date} "
                         f"({at}); a released speech changes only with a correction: add under "
                         f"`corrections:` an entry `- date: YYYY-MM-DD` with `note: \"what was corrected\"`")
        elif not changed and count == len(made):
            problems.add(source, corrections[-1].line, f"correction {count} changes nothing: the text is "
                         f"as released in edition {last.number} ({at}); correct the text or remove the entry")
        elif changed:
            correction = corrections[-1]
            pending[key] = Pending(len(made) + 1, correction.date, correction.notes)
        released_map[key] = tuple(
            Edition(e.number, e.date, e.current_sha256, e.current_bytes, e.pages,
                    kept_name(e.speech, e.lang, e.number),
                    notes=corrections[e.number - 2].notes if e.number > 1 and e.number - 2 < count else (),
                    text_sha=e.text_sha, source_sha=e.source_sha,
                    revisions=(e.sha256, *(r.sha256 for r in e.revisions[:-1])) if e.revisions else ())
            for e in made)
    capped.finish()
    return Editions(released_map, pending, tuple(entries))


class _Folders:
    """`editions/` and every folder under it must be a real folder of the project: a symbolic link
    (or anything else that is not a folder) is refused, once, naming it; else the ledger could
    vouch for files that live outside the project, and `release` would write there."""

    def __init__(self, config: Config, problems: Problems | _Capped):
        self.config, self.problems = config, problems
        self.verdicts: dict[Path, bool] = {}

    def refused(self, folder: Path) -> bool:
        """True when `folder`, or a folder between editions/ and it, is not a real folder (said
        once); False when they all are, or when one is missing (the file's own check says so)."""
        top = self.config.editions_dir
        chain = [folder, *folder.parents[:len(folder.relative_to(top).parts)]]
        for each in reversed(chain):
            verdict = self.verdicts.get(each)
            if verdict is None:
                wrong = folder_problem(each)
                if wrong is not None:
                    self.problems.add(each, None, wrong)
                verdict = self.verdicts[each] = wrong is not None
            if verdict:
                return True
        return False


def folder_problem(folder: Path) -> str | None:
    """What makes `folder` (editions/ or one under it) not a real folder of the project; None
    when it is one, or does not exist."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    rule = ("editions/ and every folder in it must be a real folder inside the project, so that a "
            "released edition is the project's own file")
    if stat.S_ISLNK(info.st_mode):
        return f"is a symbolic link (to {os.readlink(folder)}); {rule}: replace the link with the folder itself"
    if not stat.S_ISDIR(info.st_mode):
        return f"is not a folder; {rule}"
    return None


def _check_kept(config: Config, entry: Entry, problems: _Capped, sha_of: ShaOf, folders: _Folders,
                notice: Callable[[str], None] = lambda message: None) -> None:
    for path, want, what in ((kept_pdf(config, entry.speech, entry.lang, entry.number), entry.current_sha256, "PDF"),
                             (kept_source(config, entry.speech, entry.lang, entry.number), entry.source_sha,
                              "source")):
        if folders.refused(path.parent):
            return
        shown = path.relative_to(config.root).as_posix()
        said = f"{entry.speech} ({entry.lang}) edition {entry.number}: "
        wrong = kept_problem(path, what)
        if wrong == "missing":
            problems.add(config.ledger_file, entry.line, f"{said}its kept {what} {shown} is missing; "
                         "restore it from the repository")
            continue
        if wrong is not None:
            problems.add(config.ledger_file, entry.line, f"{said}its kept {what} {shown} {wrong}")
            continue
        try:
            found = sha_of(path)
        except OSError as exc:
            problems.add(config.ledger_file, entry.line, f"{said}its kept {what} {shown} cannot be read: "
                         f"{exc.strerror or exc}")
            continue
        if found != want and what == "PDF" and interrupted(path, entry) is not None:
            busy = _roll_back_alone(config, entry, path, notice)
            if busy:
                problems.add(config.ledger_file, entry.line, f"{said}{shown} {busy}")
            continue
        if found != want:
            problems.add(config.ledger_file, entry.line, f"{said}"
                         f"{shown} has SHA-256 {found[:16]}..., the ledger says {want[:16]}...; "
                         "a released edition never changes: restore the file or the line")


def kept_problem(path: Path, what: str) -> str | None:
    """What makes a kept file not what the ledger may name: "missing", or why it is not a regular
    file holding a PDF (`what` "PDF": it starts with %PDF-) or text (a source: UTF-8, no NUL byte,
    judged by its first TEXT_HEAD bytes; `load_texts` decodes the whole file when it reads it).
    None when it is fine."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return "is a symbolic link; a kept file must be a regular file of the project: replace the link with the file"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file; restore the file from the repository"
        fd = os.open(path, flags)
        try:
            head = os.read(fd, 5 if what == "PDF" else TEXT_HEAD)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if what == "PDF":
        return None if head == b"%PDF-" else "is not a PDF (it does not start with %PDF-); restore the file from the repository"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < TEXT_HEAD)
    except UnicodeDecodeError:
        head = b"\0"
    return None if b"\0" not in head else "is not text (UTF-8); restore the file from the repository"


def load_texts(config: Config, editions: Editions, sources: Sources) -> Editions:
    """`editions` with the text of every edition a changes page compares, parsed by the reader
    (`reader.numbered_blocks`), under its source's SHA-256 (`Editions.compared`): a released
    edition's from its kept source (`plan` checked the files), the edition this build makes from
    the source as it is now."""
    versions = {(s.id, lang): v for s in sources.speeches for lang, v in s.versions.items()}
    compared: dict[str, reader.Blocks] = {}
    for (speech_id, lang), released in editions.released.items():
        if len(released) + ((speech_id, lang) in editions.pending) < 2:
            continue
        for edition in released:
            path = (config.editions_dir / edition.dest).with_suffix(".md")   # under an old id if renamed
            try:
                text = read_capped(path, MAX_LEDGER_BYTES).decode("utf-8")
            except (Unreadable, OSError, UnicodeDecodeError) as exc:
                why = "is not text (UTF-8)" if isinstance(exc, UnicodeDecodeError) else \
                    f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
                raise SourceError(Problem(path.relative_to(config.root).as_posix(), None,
                                          f"the kept source of {speech_id} ({lang}) edition {edition.number} "
                                          f"{why}; restore it from the repository")) from None
            compared[edition.source_sha] = reader.numbered_blocks(text)
        if (speech_id, lang) in editions.pending:
            version = versions[(speech_id, lang)]
            compared[version.source_sha] = reader.numbered_blocks(version.source_text)
    return dataclasses.replace(editions, compared=compared)


# --- writing (`speechgen release` and `speechgen renew`, run by release.py) ---------------------------

@dataclass(frozen=True)
class Made:
    """An edition `release` records: the PDF this build made, with its version."""

    speech: Speech
    version: Version
    pending: Pending
    data: bytes
    pages: int


def record(config: Config, made: Iterable[Made]) -> list[Entry]:
    """Keep each new edition's bytes and source under editions/ and add its ledger lines. Called
    under the project's lock (`release`). The ledger is read again here, and an edition number it
    already has is refused: a file the ledger names is never written. The files are written first,
    each atomically under a new name (`TMP_MARK`) renamed into place; the ledger last, its lines
    as they were with the new ones after them, atomically. A release that fails removes what it
    wrote; one that is killed leaves the ledger as it was, and at worst files the ledger does not
    name (replaced by the next release) and temporary files (removed by it)."""
    made = list(made)
    if not made:
        return []
    ledger = config.ledger_file
    problems = Problems(config.root)
    capped = _Capped(problems, ledger)
    text = _ledger_text(config, capped)
    entries = _parse_ledger(text or "", ledger, capped)
    folders = _Folders(config, capped)
    for item in made:
        folders.refused(kept_pdf(config, item.speech.id, item.version.lang, item.pending.number).parent)
    capped.finish()
    problems.raise_if_any()
    have: dict[Key, Entry] = {}
    named: set[Path] = set()
    renamed = {alias: item.speech.id for item in made for alias in item.speech.aliases}
    for entry in entries:
        key = (renamed.get(entry.speech, entry.speech), entry.lang)
        have[key] = max(entry, have.get(key, entry), key=lambda e: e.number)
        named |= {kept_pdf(config, entry.speech, entry.lang, entry.number),
                  kept_source(config, entry.speech, entry.lang, entry.number)}
    for item in made:
        last = have.get((item.speech.id, item.version.lang))
        if (last.number if last else 0) + 1 != item.pending.number:
            raise SourceError(Problem(ledger.name, last.line if last else None, (
                f"{item.speech.id} ({item.version.lang}) already has edition {last.number if last else 0} in "
                f"the ledger, so edition {item.pending.number} cannot be recorded: {ledger.name} changed while "
                "this release was building (edited, or written by a release that took no lock). Nothing was "
                "released (tidak ada yang dirilis); run `speechgen release` again")))

    added: list[Entry] = []
    written: list[Path] = []
    target, whole = ledger, None
    try:
        for item in made:
            speech, version, number = item.speech, item.version, item.pending.number
            source = version.source_text.encode("utf-8")
            for target, data in ((kept_pdf(config, speech.id, version.lang, number), item.data),
                                 (kept_source(config, speech.id, version.lang, number), source)):
                if target in named:            # the numbering check above makes this unreachable
                    raise OutputError(f"{target}: the ledger names this file; a released edition is never "
                                      "written again. Nothing was released (tidak ada yang dirilis)")
                _make_folders(config, target.parent)
                written.append(target)
                write_atomic(target, data)
            added.append(Entry(speech.id, version.lang, number, item.pending.date,
                               hashlib.sha256(item.data).hexdigest(), len(item.data), item.pages,
                               version.text_sha, hashlib.sha256(source).hexdigest(), 0))
        target = ledger
        before = text if text is not None else LEDGER_HEADER
        if before and not before.endswith("\n"):
            before += "\n"
        lines = "".join(e.text() for e in sorted(added, key=lambda e: (e.speech, e.lang, e.number)))
        whole = (before + lines).encode("utf-8")
        write_atomic(ledger, whole)
    except BaseException as exc:
        if whole is None or not _holds(ledger, whole):     # the ledger is as it was: it names none of them
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{target}: speechgen release cannot write this file: {disk_reason(exc)}. Nothing "
                              f"was released (tidak ada yang dirilis): {ledger.name} and "
                              f"{config.editions_dir.name}/ are as they were") from None
        raise
    return added


def interrupted(path: Path, entry: Entry) -> bytes | None:
    """The ledger's latest revision of `entry`, when its kept PDF at `path` is a renewal a killed
    `speechgen renew` left: exactly that revision's bytes first, then only validation data and
    document timestamps (`signing.maintenance_only`). None for anything else, which stays a
    mismatch naming the file."""
    try:
        if os.lstat(path).st_size <= entry.current_bytes:
            return None
        data = read_capped(path, 1 << 30)
    except (Unreadable, OSError):
        return None
    old = data[:entry.current_bytes]
    if hashlib.sha256(old).hexdigest() != entry.current_sha256 or not signing.maintenance_only(old, data):
        return None
    return old


def _roll_back(config: Config, entry: Entry, path: Path, notice: Callable[[str], None]) -> str | None:
    """Put the kept PDF of `entry` back to the ledger's latest revision if a killed renewal left
    it (`interrupted`). Under the project's lock. Returns what is wrong when it could not."""
    old = interrupted(path, entry)
    shown = display_path(path, config.root)
    if old is None:
        try:
            with path.open("rb") as handle:
                same = hashlib.file_digest(handle, "sha256").hexdigest() == entry.current_sha256
        except OSError:
            same = False
        return None if same else ("changed while it was read (another command wrote it); run the command "
                                  "again (berubah saat dibaca; jalankan lagi)")
    try:
        write_atomic(path, old)
    except OSError as exc:
        return (f"is a renewal left unfinished, and cannot be put back to the revision the ledger "
                f"records: {disk_reason(exc)}")
    notice(f"{shown}: pembaruan yang terputus dikembalikan ke revisi di {config.ledger_file.name}; jalankan "
           f"`speechgen renew` lagi / a renewal left unfinished (speechgen renew was stopped) was put back "
           f"to the revision {config.ledger_file.name} records; run `speechgen renew` again")
    return None


def _roll_back_alone(config: Config, entry: Entry, path: Path, notice: Callable[[str], None]) -> str | None:
    """`_roll_back` from a build, which holds no lock on the project: it takes the project's lock
    (the one `renew` holds all along) without waiting, reads the ledger again under it, and puts
    the file back only if its line is still the one the build read. Returns what is wrong when it
    could not."""
    try:
        fd = os.open(config.root, os.O_RDONLY)
    except OSError as exc:
        return f"is a renewal left unfinished, and the project cannot be locked to put it back: {disk_reason(exc)}"
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return ("is being renewed: `speechgen renew` (or a release) is running in this project; build "
                    "again when it ends (sedang diperbarui; jalankan build lagi setelah selesai)")
        except OSError as exc:
            return f"is a renewal left unfinished, and the project cannot be locked to put it back: {disk_reason(exc)}"
        ignored = _Capped(Problems(config.root), config.ledger_file)
        now = _parse_ledger(_ledger_text(config, ignored) or "", config.ledger_file, ignored)
        if not any((e.speech, e.lang, e.number, e.current_sha256) ==
                   (entry.speech, entry.lang, entry.number, entry.current_sha256) for e in now):
            return ("was renewed while this build read the ledger; build again "
                    "(diperbarui saat build membaca; jalankan build lagi)")
        return _roll_back(config, entry, path, notice)
    finally:
        os.close(fd)


def roll_back_renewals(config: Config, notice: Callable[[str], None]) -> None:
    """Under the project's lock (`release`, `renew`): every kept PDF a killed renewal left is put
    back to the ledger's latest revision of it. A ledger with problems is left to the caller,
    which says them; a kept file that is something else is left to the checks that name it."""
    ignored = _Capped(Problems(config.root), config.ledger_file)
    folders = _Folders(config, ignored)
    for entry in _parse_ledger(_ledger_text(config, ignored) or "", config.ledger_file, ignored):
        path = kept_pdf(config, entry.speech, entry.lang, entry.number)
        if not folders.refused(path.parent) and kept_problem(path, "PDF") is None \
                and interrupted(path, entry) is not None:
            wrong = _roll_back(config, entry, path, notice)
            if wrong is not None:
                raise OutputError(f"{display_path(path, config.root)}: {wrong}")


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def disk_reason(exc: OSError) -> str:
    """Why a write failed, said for the user; a full disk adds what to do."""
    return reason_of(exc) + ("; free some space and run `speechgen release` again"
                             if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "")


def _make_folders(config: Config, folder: Path) -> None:
    """Make `folder` (under editions/) and the folders above it, each a real folder: a symbolic
    link or a file in the way is refused, naming it, before anything is written into it."""
    top = config.editions_dir
    for each in [*reversed(folder.parents[:len(folder.relative_to(top).parts)]), folder]:
        try:
            os.mkdir(each)
        except FileExistsError:
            pass
        wrong = folder_problem(each)
        if wrong is not None:
            raise OutputError(f"{each}: {wrong}. Nothing was released (tidak ada yang dirilis)")


def clean_leftovers(config: Config) -> None:
    """Remove the temporary files a killed release left (`TMP_MARK` in their names): in the
    project folder (the ledger's) and under editions/. Called under the project's lock, so no
    live release's files are among them."""
    for stale in config.root.glob(f".{config.ledger_file.name}{TMP_MARK}*"):
        with contextlib.suppress(OSError):
            stale.unlink()
    if folder_problem(config.editions_dir) is not None or not config.editions_dir.is_dir():
        return                             # a linked editions/ is refused by the build, untouched
    for folder, subfolders, names in os.walk(config.editions_dir):
        for name in names:
            if name.startswith(".") and TMP_MARK in name:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """`data` into `path` through a temporary file beside it, renamed over it once on disk. Raises
    OSError naming `path` (not the temporary file)."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", dir=path.parent)
        os.fchmod(fd, 0o666 & ~umask())     # an ordinary file of the project, not a private one
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    with contextlib.suppress(OSError):        # the rename itself on disk; it is done either way
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
