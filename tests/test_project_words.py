"""A project's own interface words: `[words.<lang>]` in speechgen.toml gives a language words of its
own (or changes some of a language's), on its pages, in its PDFs and on the cards; a word it does
not give stays English and marked so; a wrong word is refused with the file and line; and the
words are part of what every page, book and card sheet is made of."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import build_fails, copy_project
from speechgen.build import build
from speechgen.config import load_config
from test_rtl import FRENCH

WORDS = """
[words.fr]
download_pdf = "Télécharger le PDF"
speaker = "Orateur"
table = "Tableau"
footnotes = "Notes de bas de page"
speeches = "discours"
pages = "feuillets"
pages_one = "feuillet"
scan_phone = "Scannez"
edition = "Édition {n}"
"""


def french_project(dest: Path, words: str = WORDS) -> Path:
    """The fixture project with a French version of its state address, and French words."""
    project = copy_project(dest)
    config = project / "speechgen.toml"
    text = config.read_text("utf-8")
    assert 'languages = ["id", "en"]' in text
    config.write_text(text.replace('languages = ["id", "en"]', 'languages = ["id", "en", "fr"]') + words, "utf-8")
    (project / "speeches/2025/kenegaraan.fr.md").write_text(FRENCH, "utf-8")
    return project


@pytest.fixture(scope="module")
def worded(tmp_path_factory) -> tuple[Path, list[str]]:
    from speechgen.cache import Cache

    project = french_project(tmp_path_factory.mktemp("words") / "project")
    said: list[str] = []
    build(load_config(project), pdf=True, search=False, jobs=2, cache=Cache.disabled(), notice=said.append,
          log=said.append)
    return project / "site", said


def _text(page: str) -> str:
    """A page's text outside its tags, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)))


def test_a_french_page_shows_the_projects_words_and_english_marked_for_the_rest(worded) -> None:
    site, _ = worded
    page = (site / "2025/kenegaraan/fr/index.html").read_text("utf-8")
    assert "<dt>Orateur</dt>" in page
    assert re.search(r">\s*Télécharger le PDF\s*<", page)
    assert "Tableau" in page and "Notes de bas de page" in page            # the body's own words
    # a word the project does not give: English, marked so a screen reader says it in English
    assert '<span lang="en">Skip to content</span>' in page
    assert "Download PDF" not in page and '<span lang="en">Speaker</span>' not in page
    # the other languages keep speechgen's words
    for dest, word in (("2025/kenegaraan/index.html", "Unduh PDF"), ("2025/kenegaraan/en/index.html", "Download PDF")):
        other = (site / dest).read_text("utf-8")
        assert word in other and "Télécharger" not in other and "Orateur" not in other


def test_french_counts_follow_the_projects_words_and_frances_plural_rules(worded) -> None:
    site, _ = worded
    page = (site / "2025/kenegaraan/fr/index.html").read_text("utf-8")
    facts = _text(re.search(r'<span class="pdf-facts">.*?</span>\s*</', page, re.S)[0])
    pages = int(re.search(r"(\d+) feuillets?", facts)[1])
    assert re.search(rf"\b{pages} {'feuillet' if pages < 2 else 'feuillets'}\b", facts), facts   # CLDR: 0 and 1 are "one"
    assert "pages" not in facts and "page" not in facts.replace("feuillet", "")


def test_the_french_book_and_the_cards_print_the_projects_words(worded) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler) is not installed")
    site, _ = worded

    def printed(pdf: Path) -> str:
        out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        return re.sub(r"\s+", "", out).upper()           # small capitals come out letter-spaced

    book = printed(next(site.rglob("kenegaraan.fr.pdf")))
    assert "ORATEUR" in book and "SPEAKER" not in book
    assert "PEMBICARA" in printed(next(site.rglob("kenegaraan.id.pdf")))
    cards = printed(site / "2025/kenegaraan/kartu-qr.pdf")
    assert "SCANNEZ" in cards                                 # the scan line, in every site language
    assert "PINDAIDENGANKAMERAPONSEL" in cards


def test_the_build_says_which_words_a_language_lacks(worded) -> None:
    _, said = worded
    warning = next(line for line in said if line.startswith("warning:"))
    assert "[words.fr] has 8 of 94 words; the others are shown in English" in warning, warning
    assert "no interface words" not in warning


def test_wrong_words_are_refused_with_their_file_and_line(tmp_path: Path) -> None:
    project = french_project(tmp_path / "project", WORDS + 'serch = "Chercher"\nedition_word = 3\n'
                             'changes_title = "Changements de {x}"\n\n[words.de]\nsearch = "Suche"\n')
    lines = (project / "speechgen.toml").read_text("utf-8").splitlines()

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if line.startswith(text))

    build_fails(
        project,
        f"speechgen.toml:{line_of('serch')}: [words.fr] unknown word 'serch' (did you mean 'search'?)",
        f"speechgen.toml:{line_of('edition_word')}: [words.fr] edition_word must be a text that is not empty, not 3",
        f"speechgen.toml:{line_of('changes_title')}: [words.fr] changes_title uses {{x}}, which the English words "
        "'Changes in edition {n}' do not have",
        f"speechgen.toml:{line_of('[words.de]')}: [words.de]: 'de' is not in [site] languages",
    )


@pytest.mark.pdf
def test_a_changed_word_is_shown_at_the_next_build_and_the_same_words_are_found_in_the_cache(tmp_path: Path) -> None:
    from speechgen import templates
    from speechgen.cache import Cache

    project = french_project(tmp_path / "project")
    cache = Cache(tmp_path / "cache")
    build(load_config(project), search=False, cache=cache)
    config = project / "speechgen.toml"
    french = (project / "site/2025/kenegaraan/fr/index.html").read_text("utf-8")
    assert "<dt>Orateur</dt>" in french
    config.write_text(config.read_text("utf-8").replace('"Orateur"', '"Intervenant"'), "utf-8")
    build(load_config(project), search=False, cache=cache)
    french = (project / "site/2025/kenegaraan/fr/index.html").read_text("utf-8")
    assert "<dt>Intervenant</dt>" in french and "Orateur" not in french
    # the same words in a new process find every output in the cache: the words are keyed by
    # what they say, not by the object that holds them
    templates.site_words.cache_clear()
    said: list[str] = []
    again = build(load_config(project), search=False, cache=cache, out=tmp_path / "elsewhere", log=said.append)
    assert again.rendered == 0, said
    assert any(re.fullmatch(r"PDF: 4 books, 4 from the cache, 0 to render", line) for line in said), said
