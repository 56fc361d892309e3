"""Printed cards: the copy URLs on final card sheets, which must answer for good.

A card sheet is final once its speech's first edition is released (`speechgen release`); a
card printed from it sits in an institution's mailroom for years. `release` writes, beside the
speech's kept editions, the recipients whose final card has been made:

    editions/2025/pidato-kenegaraan/pidato-kenegaraan.kartu.txt
    # recipient-id <TAB> name, one per line: ...
    dpr\tDewan Perwakilan Rakyat

The build then refuses to lose any of them: a recipient removed from `recipients.yaml` (or from
the speech's `recipients:`) whose final card was made is an error naming the file, because its
printed URL would open a 404. Recipients added after the release are recorded by the next
`speechgen release` (the build says so), and only grow the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speechgen import texts
from speechgen.config import Config, Unreadable, read_capped
from speechgen.errors import Problems
from speechgen.graph import Site
from speechgen.model import Speech

SUFFIX = "kartu.txt"
MAX_BYTES = 16 * 1024 * 1024
HEADER = ("# speechgen: the recipients whose final QR card was made for this speech. Written by\n"
          "# `speechgen release`; each card's copy URL is served for good, so a recipient listed here\n"
          "# cannot leave recipients.yaml or the speech's recipients. recipient-id <TAB> name\n")


@dataclass(frozen=True)
class Printed:
    """One recipient on a final card sheet."""

    id: str
    name: str
    line: int


def record_path(config: Config, speech_id: str) -> Path:
    slug = speech_id.rsplit("/", 1)[-1]
    return config.editions_dir / speech_id / f"{slug}.{SUFFIX}"


def recorded(config: Config, speech: Speech, problems: Problems) -> list[tuple[Path, Printed]]:
    """Every recorded card of a speech, under its id and under the ids it had before a rename
    (`aliases:`): a card printed before the rename still opens a page, by its redirect."""
    found: dict[str, tuple[Path, Printed]] = {}
    for ident in (*speech.aliases, speech.id):
        for card in read(config, ident, problems):
            found.setdefault(card.id, (record_path(config, ident), card))
    return list(found.values())


def read(config: Config, speech_id: str, problems: Problems) -> list[Printed]:
    """The recorded recipients under one speech id (none if nothing is recorded)."""
    path = record_path(config, speech_id)
    if not path.exists() and not path.is_symlink():
        return []
    try:
        text = read_capped(path, MAX_BYTES).decode("utf-8")
    except (Unreadable, UnicodeDecodeError) as exc:
        problems.add(path, None, f"cannot read the record of printed cards: {exc}")
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        ident, tab, name = line.partition("\t")
        if not tab or not ident.strip():
            problems.add(path, number, "expected `recipient-id<TAB>name` (written by `speechgen release`)")
            continue
        found.append(Printed(ident.strip(), name.strip(), number))
    return found


def is_final(site: Site, speech: Speech) -> bool:
    """A speech's cards are final once its first edition, in its primary language, is released."""
    return site.editions is not None and site.editions.first(speech, speech.primary.lang) is not None


def check(site: Site, problems: Problems) -> list[str]:
    """Every recorded card still has its copy: an error naming recipients.yaml (or the speech)
    otherwise. Returns a notice per final sheet that holds cards not recorded yet."""
    config = site.config
    notices = []
    if not config.qr.enabled:
        return notices
    known = {r.id for r in site.recipients}
    for speech in (*site.speeches, *site.sealed):     # an embargoed speech's copy URLs answer too
        cards = recorded(config, speech, problems)
        current = {c.recipient.id for c in site.copies_of(speech)}
        for path, card in cards:
            if card.id in current:
                continue
            where = f"{path.relative_to(config.root).as_posix()}:{card.line}"
            if card.id not in known:
                problems.add(config.recipients_file, None,
                             f"recipient {card.id!r} ({card.name}) was removed, but its final QR card for "
                             f"{speech.id} was printed ({where}): the URL on that card must keep answering. "
                             f"Put it back in {config.recipients_file.name} (penerima yang kartunya sudah "
                             "dicetak tidak boleh dihapus)")
            else:
                source = speech.primary.source
                problems.add(source, _recipients_line(speech),
                             f"recipients: {card.id!r} ({card.name}) is no longer chosen, but its final QR "
                             f"card for {speech.id} was printed ({where}): the URL on that card must keep "
                             "answering. Name it again in recipients (penerima yang kartunya sudah dicetak "
                             "tidak boleh dihapus)")
        if is_final(site, speech):
            new = current - {card.id for _, card in cards}
            if new:
                notices.append(f"{speech.id}: {len(new)} kartu final belum dicatat / final cards not yet "
                               "recorded (`speechgen release` records them; print them after)")
    return notices


def update(site: Site, released_now: set[str], write_atomic: Callable[[Path, bytes], None]) -> list[Path]:
    """`speechgen release`: record the cards of every final sheet (those released before, and the
    speeches in `released_now`), keeping every recipient recorded before. Returns the files written."""
    config = site.config
    written = []
    if not config.qr.enabled:
        return written
    for speech in site.speeches:
        if not (is_final(site, speech) or speech.id in released_now):
            continue
        copies = site.copies_of(speech)
        if not copies:
            continue
        ignored = Problems(config.root)        # the build that made `site` read these records already
        before = [card for _, card in recorded(config, speech, ignored)]
        names = {card.id: card.name for card in before}
        for copy in copies:
            names.setdefault(copy.recipient.id, copy.recipient.name)
        own = {card.id for card in read(config, speech.id, ignored)}
        if set(names) == own:                  # its own record already lists every card
            continue
        lines = "".join(f"{ident}\t{_one_line(name)}\n" for ident, name in names.items())
        path = record_path(config, speech.id)
        path.parent.mkdir(parents=True, exist_ok=True)    # a renamed speech's first record under its new id
        write_atomic(path, (HEADER + lines).encode("utf-8"))
        written.append(path)
    return written


def _recipients_line(speech: Speech) -> int:
    """The line of `recipients:` in the speech's front matter (1 if it has none)."""
    for number, line in enumerate(texts.STORE.get(speech.primary.source_sha).splitlines(), 1):
        if line.startswith("recipients:"):
            return number
    return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())
