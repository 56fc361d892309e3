"""`speechgen release` and `speechgen renew`: the commands that write the editions ledger.

`release` builds every unreleased edition's PDF (a build into a private folder, as `check`
does), signs each, and has `editions.record` keep it; then `printed.update` records the final
cards. `renew` adds a fresh document timestamp to the kept editions whose evidence ages, and
records each new revision in the ledger. Both run under the project's lock. The ledger itself
(reading, checking, the kept files, writing them) is `editions.py`'s; this module is a command
above the build, so that `editions.py` knows neither the build nor the site graph.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speechgen import editions, printed, signing
from speechgen.editions import Entry, Made, Revision, disk_reason
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import Config, Unreadable, read_capped
from speechgen.errors import ConfigError, OutputError, Problem, SourceError, display_path
from speechgen.writer import lock_project


def release(config: Config, *, dry_run: bool = False, jobs: int | None = None, unsigned: bool = False,
            log: Callable[[str], None] = lambda message: None,
            progress: Callable[[int, int], None] | None = None,
            notice: Callable[[str], None] = lambda message: None) -> list[Entry]:
    """`speechgen release`: build every unreleased edition's PDF (into a private folder, as
    `check` does), sign each with the publisher's key when `[signing]` names a certificate, and
    record them. Returns the new ledger entries (with `dry_run`, what they would be, unsigned,
    and nothing is written). A project with a certificate and no key is refused unless
    `unsigned`: an edition released unsigned stays unsigned.

    The whole release, build included, runs under the project's lock (`lock_project`, the lock
    a build into the project's `site/` takes): a second release, or such a build, waits for it
    (`notice` says so), then finds the editions it made released."""
    if not config.pdf.enabled:
        raise ConfigError([Problem(str(config.path), None, "[pdf] enabled = false: there are no PDFs to release")])
    made: list[Made] = []
    built = []

    def keep(folder: Path, site) -> None:
        built.append(site)
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
    lock = _lock(config, "release", dry_run, notice)
    try:
        if not dry_run:
            editions.clean_leftovers(config)
            editions.roll_back_renewals(config, notice)
        try:
            build(config, write=False, inspect=keep, pdf=True, search=False, card_pdfs=False, jobs=jobs, unseal=True,
                  log=log, progress=progress, notice=notice, cache=Cache.for_project(config.root, writable=True))
        except OutputError as error:
            raise _said_for_release(error) from None
        except OSError as exc:
            raise _said_for_release(exc) from None
        if signer is not None:
            # In the main process, before anything is kept: a failed signing (a TSA or OCSP
            # responder that does not answer included) records nothing.
            if made and not config.signing.timestamp_url:
                notice(f"{config.path.name}: [signing] timestamp_url is not set: the signatures (PAdES B-B) "
                       "cannot prove their time, and stop proving anything once the certificate expires "
                       "(tanpa cap waktu, tanda tangan tidak membuktikan waktunya)")
            made = [Made(m.speech, m.version, m.pending,
                         signing.sign_pdf(m.data, signer, now,
                                          name=editions.kept_name(m.speech.id, m.version.lang, m.pending.number),
                                          reason=f"Edisi {m.pending.number} / Edition {m.pending.number}",
                                          location=config.site.publisher or config.site.title,
                                          timestamp_url=config.signing.timestamp_url,
                                          trust=signing.read_trust(config.root, config.signing.tsa_certificate)),
                         m.pages)
                    for m in made]
        if dry_run:
            return [Entry(m.speech.id, m.version.lang, m.pending.number, m.pending.date,
                          hashlib.sha256(m.data).hexdigest(), len(m.data), m.pages, m.version.text_sha, "", 0)
                    for m in made]
        added = editions.record(config, made)
        # The cards of every final sheet are recorded, those of a speech released just now too:
        # their copy URLs are printed and must answer for good (printed.py).
        first_now = {m.speech.id for m in made if m.pending.number == 1 and m.version.lang == m.speech.primary.lang}
        try:
            for path in printed.update(built[0], first_now, editions.write_atomic) if built else ():
                notice(f"{display_path(path, config.root)}: kartu final dicatat / final cards recorded")
        except OSError as exc:
            raise OutputError(f"{exc.filename}: speechgen release cannot record the final cards: {disk_reason(exc)}. "
                              f"{len(added)} edition(s) released; run speechgen release again to record the "
                              "cards (kartu belum dicatat)") from None
        return added
    finally:
        os.close(lock)          # releases the lock


RENEW_WITHIN_DAYS = 365          # renew when the last timestamp's TSA certificate ends within this


@dataclass(frozen=True)
class Renewal:
    """An edition `renew` looked at: its last timestamp, and what was done (or would be)."""

    entry: Entry
    tsa: str = ""                # the subject of the TSA certificate that made the last timestamp
    tsa_until: dt.datetime | None = None   # when that certificate ends (None: no timestamp at all)
    due: bool = False            # it ends within the horizon: renewed (or, on a dry run, would be)
    sha256: str = ""             # the new revision's (after a renewal)
    bytes: int = 0
    until: dt.datetime | None = None       # when the new timestamp's TSA certificate ends


def renew(config: Config, *, within_days: int = RENEW_WITHIN_DAYS, dry_run: bool = False,
          now: dt.datetime | None = None, notice: Callable[[str], None] = lambda message: None) -> list[Renewal]:
    """`speechgen renew`: every released edition whose last timestamp's TSA certificate ends
    within `within_days` gets one more incremental update (the validation data of that TSA's
    chain and a fresh document timestamp, `signing.renew_pdf`); its kept file becomes the new
    revision, whose first bytes are the old revision, and a `renewal` line records its SHA-256
    after the edition's own line. Returns every timestamped or due edition looked at.

    Under the project's lock, like `release`. Every new revision is made first, into temporary
    files beside the kept ones, and checked (its prefix is the old revision; its new timestamp's
    TSA certificate ends beyond the horizon, else renewing again would be due at once); only
    then are they renamed into place and the ledger replaced, atomically. A TSA, OCSP responder
    or CRL that does not answer changes nothing. Killed between those renames and the ledger's,
    it leaves kept files that are the recorded revision followed only by the renewal's updates:
    the next build, release or renew puts them back (`editions.roll_back_renewals`, `plan`), and this
    renew, run again, renews them once."""
    now = now or dt.datetime.now(dt.timezone.utc)
    horizon = now + dt.timedelta(days=within_days)
    trust = signing.read_trust(config.root, config.signing.tsa_certificate)
    url = config.signing.timestamp_url
    if not url and not dry_run:
        raise ConfigError([Problem(str(config.path), None, "[signing] timestamp_url is not set: `speechgen "
                                   "renew` asks a time-stamping authority for the new timestamps; set it "
                                   "(tanpa otoritas cap waktu tidak ada yang diperbarui)")])
    lock = _lock(config, "renew", dry_run, notice)
    made: list[tuple[Path, str, Renewal]] = []            # (kept file, its temporary new revision, what)
    try:
        if not dry_run:
            editions.clean_leftovers(config)
            editions.roll_back_renewals(config, notice)
        text, entries = editions.read_for_writing(config)
        looked: list[Renewal] = []
        for entry in entries:
            path = editions.kept_pdf(config, entry.speech, entry.lang, entry.number)
            shown = display_path(path, config.root)
            data = _kept_revision(config, entry, path, shown)
            try:
                last = signing.last_timestamp(data)
            except signing.SigningError as exc:
                raise signing.SigningError(f"{shown}: {exc}") from None
            if last is None:
                continue                # PAdES B-B or unsigned: no timestamp to renew
            item = Renewal(entry, last.tsa, last.tsa_until, due=last.tsa_until <= horizon)
            if item.due and not dry_run:
                new = signing.renew_pdf(data, url, name=shown, trust=trust)
                renewed = signing.last_timestamp(new)
                if not new.startswith(data) or renewed is None:
                    raise OutputError(f"{shown}: the renewed file does not begin with the kept bytes; "
                                      "nothing was changed")
                if renewed.tsa_until <= horizon:
                    raise signing.SigningError(
                        f"{shown}: the time-stamping authority {url} signs with a certificate that ends on "
                        f"{renewed.tsa_until:%Y-%m-%d}, within {within_days} days too: its timestamp would "
                        "need renewing at once. Use a TSA whose certificate ends later, or a shorter "
                        "--within; nothing was changed (sertifikat otoritas cap waktu juga segera berakhir)")
                item = dataclasses.replace(item, sha256=hashlib.sha256(new).hexdigest(), bytes=len(new),
                                           until=renewed.tsa_until)
                made.append((path, _write_beside(path, new), item))
            looked.append(item)
        if dry_run or not made:
            return looked
        _commit_renewals(config, text or "", made, now.date())
        made = []
        return looked
    finally:
        for _, temporary, _ in made:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        os.close(lock)


def _kept_revision(config: Config, entry: Entry, path: Path, shown: str) -> bytes:
    """The kept file of `entry`, which must be the ledger's latest revision of it."""
    said = f"{entry.speech} ({entry.lang}) edition {entry.number}: "
    wrong = editions.kept_problem(path, "PDF")
    if wrong is not None:
        raise SourceError(Problem(config.ledger_file.name, entry.line, f"{said}its kept PDF {shown} "
                                  + ("is missing; restore it from the repository" if wrong == "missing" else wrong)))
    try:
        data = read_capped(path, 1 << 30)
    except (Unreadable, OSError) as exc:
        raise SourceError(Problem(config.ledger_file.name, entry.line, f"{said}its kept PDF {shown} cannot be "
                                  f"read: {getattr(exc, 'strerror', None) or exc}")) from None
    if hashlib.sha256(data).hexdigest() != entry.current_sha256:
        old = editions.interrupted(path, entry)       # a dry run reads a killed renewal's file as the recorded revision
        if old is not None:
            return old
        raise SourceError(Problem(config.ledger_file.name, entry.line, f"{said}{shown} is not the revision the "
                                  f"ledger records (SHA-256 {entry.current_sha256[:16]}...); a released edition "
                                  "never changes: restore the file, then renew. Nothing was changed"))
    return data


def _write_beside(path: Path, data: bytes) -> str:
    """`data` in a new temporary file beside `path` (removed by the next release or renew if
    left behind); its name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{editions.TMP_MARK}", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~editions.umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"{path}: speechgen renew cannot write beside this file: {disk_reason(exc)}. Nothing "
                          "was changed") from None
    return tmp


def _commit_renewals(config: Config, text: str, made: list[tuple[Path, str, Renewal]], day: dt.date) -> None:
    """Rename every new revision into place, then write the ledger with a renewal line for each.
    If that fails, each kept file is put back to its old revision (its own first bytes)."""
    ledger = config.ledger_file
    lines = "".join(Revision(item.entry.speech, item.entry.lang, item.entry.number, day, item.sha256, item.bytes,
                             item.entry.current_sha256, 0).text() for _, _, item in made)
    before = text or editions.LEDGER_HEADER
    if not before.endswith("\n"):
        before += "\n"
    moved: list[tuple[Path, Renewal]] = []
    try:
        for path, temporary, item in made:
            os.replace(temporary, path)
            moved.append((path, item))
        editions.write_atomic(ledger, (before + lines).encode("utf-8"))
    except OSError as exc:
        for path, item in moved:            # the old revision is the new one's first bytes
            with contextlib.suppress(OSError):
                with path.open("rb") as handle:
                    editions.write_atomic(path, handle.read(item.entry.current_bytes))
        raise OutputError(f"{exc.filename or ledger}: speechgen renew cannot write: {disk_reason(exc)}. Nothing "
                          f"was changed: {ledger.name} and the kept files are as they were") from None


def _said_for_release(error: OutputError | OSError) -> OutputError:
    """A failure of the build `release` runs, said as the release's: that build writes into a
    private temporary folder, whose name (and "the site") mean nothing to the user."""
    private = os.path.join(tempfile.gettempdir(), "speechgen-check-")
    if isinstance(error, OSError):
        name = error.filename if isinstance(error.filename, str) and os.path.isabs(error.filename) else None
        if name is not None and not name.startswith(private):
            return OutputError(f"{name}: speechgen release failed: {disk_reason(error)}. Nothing was released "
                               "(tidak ada yang dirilis)")
        reason = disk_reason(error)
    else:
        said = str(error)
        if not said.startswith(private):
            return error
        reason = said.rpartition(": ")[2]
        if "no space left" in reason or "quota" in reason:
            reason += "; free some space and run `speechgen release` again"
    return OutputError(f"speechgen release: cannot render the editions' PDFs in the temporary folder "
                       f"{tempfile.gettempdir()}: {reason} (set TMPDIR to a folder with room to use another). "
                       "Nothing was released (tidak ada yang dirilis)")


def _lock(config: Config, command: str, dry_run: bool, notice: Callable[[str], None]) -> int:
    """The project's lock for `speechgen <command>` (shared for a dry run), waited for with a word."""
    try:
        return lock_project(config.root, exclusive=not dry_run, wait=lambda: notice(
            f"{config.root}: another release or build is running in this project; waiting for it to "
            "finish (rilis atau build lain sedang berjalan; menunggu)"))
    except OSError as exc:
        raise OutputError(f"{config.root}: speechgen {command} cannot lock the project: {disk_reason(exc)}") from None
