"""Editions: released PDFs are frozen; a released text changes only with a correction.

`speechgen release` records every published speech's PDF, per language, as an edition in the
ledger (`editions.txt` at the project root, one line each, committed with the sources) and keeps
its bytes, and its source as released, in `editions/`. From then on the build serves the kept
bytes: no template, stylesheet, font or speechgen change alters them.

    # speech  lang  edition  date  sha256  bytes  pages  text-sha256  source-sha256
    2025/pidato-kenegaraan id 1 2025-08-15 9f86...  183211 9 1c4e... 77ab...

`plan` reads the ledger, checks it against the kept files and the sources, and says for each
speech and language which editions are released and which one (if any) this build makes:
a speech never released is edition 1, unreleased; a released speech whose text changed needs a
new `corrections:` entry, which makes the next edition. `record` is what `release` writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from speechgen import texts
from speechgen.config import Config, Unreadable, read_capped
from speechgen.errors import OutputError, Problems
from speechgen.graph import edition_dest
from speechgen.model import Edition, Sources, Speech, Version

LEDGER_HEADER = (
    "# speechgen editions: every released PDF, oldest first. Written by `speechgen release`;\n"
    "# each line must match the file it names under editions/ (its SHA-256 is checked on every build).\n"
    "# speech lang edition date sha256 bytes pages text-sha256 source-sha256\n"
)
MAX_LEDGER_BYTES = 64 * 1024 * 1024
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

    def text(self) -> str:
        return (f"{self.speech} {self.lang} {self.number} {self.date.isoformat()} {self.sha256} "
                f"{self.bytes} {self.pages} {self.text_sha} {self.source_sha}\n")


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


def every_edition(site, speech: Speech, lang: str, pdf) -> tuple[Edition, ...]:
    """Every edition of a speech in one language, oldest first: the released ones, then the one
    its text will be if it is not released as it is, with the PDF the build made of it (`pdf`, a
    PdfInfo) or, in a build without PDFs, with none (no bytes, no fingerprint, no URL)."""
    if site.editions is None:
        return ()
    released = site.editions.of(speech, lang)
    pending = site.editions.pending_of(speech, lang)
    if pending is None:
        return released
    version = speech.versions[lang]
    made = (pdf.sha256, pdf.bytes, pdf.pages, pdf.dest) if pdf is not None else ("", 0, 0, "")
    return released + (Edition(pending.number, pending.date, *made, released=False, notes=pending.notes,
                               text_sha=version.text_sha, source_sha=version.source_sha),)


def kept_pdf(config: Config, speech_id: str, lang: str, number: int) -> Path:
    return config.editions_dir / edition_dest(speech_id, lang, number)


def kept_source(config: Config, speech_id: str, lang: str, number: int) -> Path:
    return kept_pdf(config, speech_id, lang, number).with_suffix(".md")


# --- reading ---------------------------------------------------------------------------------------

def read_ledger(config: Config, problems: Problems) -> list[Entry]:
    path = config.ledger_file
    if not path.exists() and not path.is_symlink():
        return []
    try:
        text = read_capped(path, MAX_LEDGER_BYTES).decode("utf-8")
    except (Unreadable, OSError) as exc:
        problems.add(path, None, f"cannot read the editions ledger: {getattr(exc, 'strerror', None) or exc}")
        return []
    except UnicodeDecodeError:
        problems.add(path, None, "the editions ledger is not UTF-8 text")
        return []
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry = _parse(line, number)
        if isinstance(entry, str):
            problems.add(path, number, f"{entry}; expected: speech lang edition date sha256 bytes "
                         "pages text-sha256 source-sha256 (this file is written by `speechgen release`)")
        else:
            entries.append(entry)
    return entries


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


def plan(config: Config, sources: Sources, problems: Problems, sha_of: ShaOf) -> Editions:
    """The ledger checked against the kept files and the sources. Every problem names the ledger's
    line or the source's; the caller raises them with the others."""
    entries = read_ledger(config, problems)
    ledger = config.ledger_file
    by_key: dict[Key, list[Entry]] = {}
    for entry in entries:
        earlier = by_key.setdefault((entry.speech, entry.lang), [])
        expected = len(earlier) + 1
        if entry.number != expected:
            problems.add(ledger, entry.line, f"{entry.speech} ({entry.lang}) edition {entry.number} "
                         f"where edition {expected} comes next; editions are numbered 1, 2, ... in order")
            continue
        if earlier and entry.date < earlier[-1].date:
            problems.add(ledger, entry.line, f"{entry.speech} ({entry.lang}) edition {entry.number} is dated "
                         f"{entry.date}, before edition {earlier[-1].number} ({earlier[-1].date})")
        _check_kept(config, entry, problems, sha_of)
        earlier.append(entry)

    versions: dict[Key, tuple[Speech, Version]] = {
        (s.id, lang): (s, v) for s in sources.speeches for lang, v in s.versions.items()}
    for key, released in by_key.items():
        if key not in versions:
            first = released[0]
            problems.add(ledger, first.line, f"{key[0]} ({key[1]}) was released (edition "
                         f"{released[-1].number}) but has no published source any more; a released "
                         f"speech stays: restore its file under speeches/ (not as a draft)")

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
            Edition(e.number, e.date, e.sha256, e.bytes, e.pages, edition_dest(e.speech, e.lang, e.number),
                    notes=corrections[e.number - 2].notes if e.number > 1 and e.number - 2 < count else (),
                    text_sha=e.text_sha, source_sha=e.source_sha)
            for e in made)
    return Editions(released_map, pending, tuple(entries))


def _check_kept(config: Config, entry: Entry, problems: Problems, sha_of: ShaOf) -> None:
    for path, want, what in ((kept_pdf(config, entry.speech, entry.lang, entry.number), entry.sha256, "PDF"),
                             (kept_source(config, entry.speech, entry.lang, entry.number), entry.source_sha,
                              "source")):
        shown = path.relative_to(config.root).as_posix()
        try:
            found = sha_of(path) if path.is_file() and not path.is_symlink() else None
        except OSError:
            found = None
        if found is None:
            problems.add(config.ledger_file, entry.line, f"{entry.speech} ({entry.lang}) edition {entry.number}: "
                         f"its kept {what} {shown} is missing; restore it from the repository")
        elif found != want:
            problems.add(config.ledger_file, entry.line, f"{entry.speech} ({entry.lang}) edition {entry.number}: "
                         f"{shown} has SHA-256 {found[:16]}..., the ledger says {want[:16]}...; "
                         "a released edition never changes: restore the file or the line")


def load_texts(config: Config, editions: Editions) -> None:
    """Put the kept source of every released edition that a changes page compares into
    `texts.STORE` (under its SHA-256, the ledger's source-sha256; `plan` checked the files)."""
    for (speech_id, lang), released in editions.released.items():
        if len(released) + ((speech_id, lang) in editions.pending) < 2:
            continue
        for edition in released:
            path = kept_source(config, speech_id, lang, edition.number)
            texts.STORE.put(path.read_bytes().decode("utf-8"))


# --- writing (speechgen release) ----------------------------------------------------------------------

@dataclass(frozen=True)
class Made:
    """An edition `release` records: the PDF this build made, with its version."""

    speech: Speech
    version: Version
    pending: Pending
    data: bytes
    pages: int


def release(config: Config, *, dry_run: bool = False, jobs: int | None = None, unsigned: bool = False,
            log: Callable[[str], None] = lambda message: None,
            progress: Callable[[int, int], None] | None = None,
            notice: Callable[[str], None] = lambda message: None) -> list[Entry]:
    """`speechgen release`: build every unreleased edition's PDF (into a private folder, as
    `check` does), sign each with the publisher's key when `[signing]` names a certificate, and
    record them. Returns the new ledger entries (with `dry_run`, what they would be, unsigned,
    and nothing is written). A project with a certificate and no key is refused unless
    `unsigned`: an edition released unsigned stays unsigned."""
    import datetime as dt
    import json
    import os

    from speechgen import signing

    from speechgen.build import build
    from speechgen.cache import Cache

    if not config.pdf.enabled:
        from speechgen.errors import ConfigError, Problem

        raise ConfigError([Problem(str(config.path), None, "[pdf] enabled = false: there are no PDFs to release")])
    made: list[Made] = []

    def keep(folder: Path, site) -> None:
        listed = json.loads((folder / site.manifest_dest).read_bytes())
        pages = {(item["id"], lang): entry["pdf"]["pages"]
                 for item in listed["speeches"] for lang, entry in item["languages"].items() if "pdf" in entry}
        for speech in site.speeches:
            for lang, version in speech.versions.items():
                pending = site.editions.pending_of(speech, lang)
                if pending is not None:
                    data = (folder / site.pdf_dest(speech, lang)).read_bytes()
                    made.append(Made(speech, version, pending, data, pages[(speech.id, lang)]))

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    signer = None
    if config.signing.certificate and not dry_run:
        signer = signing.signer_from_env(config.root, Path(config.signing.certificate), os.environ, now)
        if signer is None and not unsigned:
            raise signing.SigningError(
                f"{config.path.name}: [signing] certificate is set but {signing.KEY_ENV} is not: a released "
                f"edition keeps its bytes for good, so it is signed when released. Set {signing.KEY_ENV} "
                f"and {signing.PASSPHRASE_ENV}, or release unsigned on purpose with --unsigned")
    build(config, write=False, inspect=keep, pdf=True, search=False, card_pdfs=False, jobs=jobs,
          log=log, progress=progress, notice=notice, cache=Cache.for_project(config.root, writable=True))
    if signer is not None:
        # In the main process, before anything is kept: a failed signing records nothing.
        made = [Made(m.speech, m.version, m.pending,
                     signing.sign_pdf(m.data, signer, now, name=edition_dest(m.speech.id, m.version.lang, m.pending.number),
                                      reason=f"Edisi {m.pending.number} / Edition {m.pending.number}",
                                      location=config.site.publisher or config.site.title), m.pages)
                for m in made]
    if dry_run:
        return [Entry(m.speech.id, m.version.lang, m.pending.number, m.pending.date,
                      hashlib.sha256(m.data).hexdigest(), len(m.data), m.pages, m.version.text_sha, "", 0)
                for m in made]
    problems = Problems(config.root)
    entries = read_ledger(config, problems)      # the build checked it: it reads the same now
    return record(config, entries, made) if made else []


def record(config: Config, entries: list[Entry], made: Iterable[Made]) -> list[Entry]:
    """Keep each new edition's bytes and source under editions/ and add its ledger lines. The
    files are written first, each atomically; the ledger last, atomically: an interrupted
    release leaves the ledger as it was (and at worst unreferenced files, overwritten next time)."""
    added = []
    for item in made:
        speech, version, number = item.speech, item.version, item.pending.number
        sha = hashlib.sha256(item.data).hexdigest()
        source = version.source_text.encode("utf-8")
        _write_atomic(kept_pdf(config, speech.id, version.lang, number), item.data)
        _write_atomic(kept_source(config, speech.id, version.lang, number), source)
        entry = Entry(speech.id, version.lang, number, item.pending.date, sha, len(item.data), item.pages,
                      version.text_sha, hashlib.sha256(source).hexdigest(), 0)
        added.append(entry)
    if not added:
        return []
    ordered = sorted([*entries, *added], key=lambda e: (e.speech, e.lang, e.number))
    lines = [e.text() for e in ordered]
    _write_atomic(config.ledger_file, (LEDGER_HEADER + "".join(lines)).encode("utf-8"))
    return added


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~_umask())     # an ordinary file of the project, not a private one
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
