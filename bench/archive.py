"""A national archive's shape, generated: the projects bench/compare.py, bench/search_browser.py and
bench/serve_reload.py build.

    make_archive(root, speeches=1000)              # 80 years, a speaker per decade, 25 occasions
    make_archive(root, speeches=1000, years=1000)  # 1,000 speeches in 1,000 different years

Issue #11's shape: `speeches` speeches spread evenly over `years` years ending in 2025, one speaker
per decade, 25 occasions, every other speech translated (Indonesian and English: 1,000 speeches make
1,500 language versions), about 2,500 words per language version with headings, a table and
footnotes. Words are drawn from a vocabulary of several thousand words with a Zipf distribution
(a few very common words, a long tail of rare ones), so the search index sees a realistic number of
distinct words; bench.py's 35-word vocabulary makes a search index far smaller than a real one.
The same seed gives the same bytes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LAST_YEAR = 2025
OCCASIONS = 25
WORDS_ID = ("rakyat negara pembangunan desa pulau sekolah guru petani nelayan jalan irigasi anggaran "
            "keadilan persatuan kesehatan pangan laut hutan energi arsip terbuka warga daerah kota "
            "bekerja bersama jujur sabar maju adil makmur").split()
WORDS_EN = ("people nation development village island school teacher farmer fisher road irrigation "
            "budget justice unity health food sea forest energy archive open citizen region city work "
            "together honest patient forward fair prosperous").split()
SYLLABLES = [c + v for c in "bcdfghjklmnprstwy" for v in "aiueo"] + ["ng", "ny", "an", "ar", "in", "um"]


@dataclass(frozen=True)
class Version:
    """One language version of a speech, as written to speeches/<year>/<stem>.<lang>.md."""
    year: int
    stem: str
    lang: str
    title: str
    speaker: str
    date: str
    occasion: str
    place: str
    body: str

    @property
    def path(self) -> str:
        return f"speeches/{self.year}/{self.stem}.{self.lang}.md"

    def source(self) -> str:
        return (f"---\ntitle: {self.title}\nspeaker: {self.speaker}\ndate: {self.date}\n"
                f"occasion: {self.occasion}\nplace: {self.place}\n---\n\n{self.body}")


def vocabulary(seed: str, common: list[str], size: int) -> tuple[list[str], list[float]]:
    """`size` distinct words, `common` first, and Zipf cumulative weights for random.choices."""
    rng = random.Random(seed)
    words, seen = list(common), set(common)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(size)))
    return words, cumulative


def body(rng: random.Random, vocab: tuple[list[str], list[float]], words: int, lang: str) -> str:
    """About `words` words: a heading every ~600 words, paragraphs of five sentences, a footnote in
    every third section, and a small table."""
    names, weights = vocab
    drawn = iter(rng.choices(names, cum_weights=weights, k=words + 400))
    part = "Bagian" if lang == "id" else "Part"
    parts, written, section, notes = [], 0, 0, []
    while written < words:
        if written // 600 >= section:
            section += 1
            parts.append(f"## {part} {section}\n")
        sentences = []
        for _ in range(5):
            n = rng.randint(8, 20)
            sentences.append(" ".join(next(drawn, "rakyat") for _ in range(n)).capitalize() + ".")
            written += n
        note = ""
        if section % 3 == 0 and section not in notes:
            notes.append(section)
            note = f"[^{section}]"
        parts.append(" ".join(sentences) + note + "\n")
    header = ("| Sektor | 2023 | 2024 |" if lang == "id" else "| Sector | 2023 | 2024 |")
    parts.append(f"{header}\n|---|---:|---:|\n" + "".join(
        f"| {names[i]} | {rng.randint(100, 9999)} | {rng.randint(100, 9999)} |\n" for i in range(1, 6)))
    parts.extend(f"[^{n}]: {'Catatan' if lang == 'id' else 'Note'} {n}.\n" for n in notes)
    return "\n".join(parts)


def versions(speeches: int = 1000, years: int = 80, words: int = 2500, seed: int = 11):
    """Every language version of the archive, in order (a generator: 4,000 speeches are ~90 MB)."""
    rng = random.Random(seed)
    vocab_id = vocabulary("id", WORDS_ID, 8000)
    vocab_en = vocabulary("en", WORDS_EN, 8000)
    first = LAST_YEAR - years + 1
    occasions_id = [f"Acara Kenegaraan {k + 1}" for k in range(OCCASIONS)]
    occasions_en = [f"State Occasion {k + 1}" for k in range(OCCASIONS)]
    for n in range(speeches):
        year = first + n * years // speeches
        decade = (year - first) // 10
        speaker = f"Presiden Dekade {decade + 1}"
        occasion = n % OCCASIONS
        date = f"{year:04d}-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        stem = f"pidato-{n:05d}"
        place = f"Kota {['Contoh', 'Teladan', 'Pusaka', 'Nusa'][n % 4]}"
        yield Version(year, stem, "id", f"Pidato {occasions_id[occasion]} {year} nomor {n}", speaker, date,
                      occasions_id[occasion], place, body(rng, vocab_id, words, "id"))
        if n % 2 == 0:          # half of the speeches are translated
            yield Version(year, stem, "en", f"Address at {occasions_en[occasion]} {year} number {n}", speaker,
                          date, occasions_en[occasion], place, body(rng, vocab_en, words, "en"))


SPEECHGEN_TOML = """\
[site]
title = "Arsip Pidato Kenegaraan (bench)"
base_url = "https://pidato.example.go.id/arsip/"
default_language = "id"
languages = ["id", "en"]
publisher = "Sekretariat Negara (bench)"

[pdf]
enabled = {pdf}

[qr]
enabled = false
"""


def make_archive(root: Path, speeches: int = 1000, years: int = 80, words: int = 2500,
                 pdf: bool = False, each: Callable[[Version], None] | None = None) -> int:
    """A speechgen project of the archive's shape under `root` (HTML only unless `pdf`; QR off,
    no recipients); `each` also gets every version (to write the peers' copies). Returns the number
    of language versions written."""
    count = 0
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text(SPEECHGEN_TOML.format(pdf="true" if pdf else "false"))
    for version in versions(speeches, years, words):
        path = root / version.path
        path.parent.mkdir(exist_ok=True)
        path.write_text(version.source(), encoding="utf-8")
        if each is not None:
            each(version)
        count += 1
    return count
