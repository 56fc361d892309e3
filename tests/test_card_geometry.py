"""Card sheets as a print shop holds them: glyph boxes read from the PDF (pdfplumber) for names of
1 to 200 characters in Latin, Cyrillic and Arabic script and the longest URL the config allows, on
A6 and A7 cards, signed and unsigned. No two lines of text overlap, no glyph touches the QR code
or its quiet zone, every glyph lies 3 mm inside its card's cut lines, nothing is under 6 pt."""

from __future__ import annotations

import csv
import dataclasses
import io
import random
import re
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config
from speechgen.errors import SourceError
from speechgen.render.cards import LAYOUTS, MIN_PT, PROOF_MARK, FRAMES, CardLayout

MM = 72 / 25.4                       # points in a mm
CUT_MM = 3.0                         # the least room between a glyph and its card's cut lines
ARABIC_FONT = Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf")
LONG_SLUG = "pidato-kenegaraan-presiden-dalam-rangka-hut-ke-80-proklamasi-kemerdekaan-ri-2025"[:80].rstrip("-")
LONG_ID = "konsulat-jenderal-republik-indonesia-di-jeddah-kerajaan-arab-saudi-bagian-arsip-1"[:80].rstrip("-")
LENGTHS = (1, 2, 7, 18, 33, 52, 75, 98, 120, 145, 170, 200)
# Names of up to this many characters (in words of at most 14 letters) fit on every card: a longer
# one may be a build error instead.
ALWAYS_FIT = {"A6": 145, "A7": 98}

LETTERS = {
    "latin": "abcdefghijklmnopqrstuvwxyzéèüöäåçñ",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщыэюя",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
}


def name_of(script: str, length: int, seed: int) -> str:
    """A name of `length` characters: words of 1 to 14 letters, capitalised where the script has case."""
    rng = random.Random(f"{script}{length}{seed}")
    words: list[str] = []
    while len(" ".join(words)) < length:
        word = "".join(rng.choice(LETTERS[script]) for _ in range(rng.randint(1, 14)))
        words.append(word.capitalize())
    return " ".join(words)[:length].rstrip() or LETTERS[script][0].upper()


def every_name() -> list[str]:
    names = [name_of(script, n, 0) for script in LETTERS for n in LENGTHS]
    names += ["Konsulat Jenderal RI di Jeddah (جدة)", "Mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm WWWWWWWWWWWWWWWW",
              "Ш" * 24]
    return names


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from speechgen.signing import new_sample_keys

    folder = tmp_path_factory.mktemp("keys") / "keys"
    cert_path, _ = new_sample_keys(folder, "Penerbit Uji", "frasa-sandi-uji", 30)
    return Path(cert_path).read_bytes()


def card_project(project: Path, size: str, names: list[str], certificate: bytes | None,
                 long_url: bool = True) -> None:
    """The fixture project with `names` as its recipients (one with the longest id a recipient may
    have), the speech under the longest slug, the Arabic font in `[pdf] fonts`, and the card size."""
    fonts = project / "static" / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARABIC_FONT, fonts / ARABIC_FONT.name)
    ids = [f"r{n:03d}" for n in range(len(names))]
    if long_url:
        ids[-1] = LONG_ID
    groups = ["lembaga-negara"] * (len(names) - 1) + ["arsip"]     # the speech is sent to both groups
    (project / "recipients.yaml").write_text("recipients:\n" + "".join(
        f"  - id: {rid}\n    name: {_yaml(name)}\n    group: {group}\n"
        for rid, name, group in zip(ids, names, groups)), "utf-8")
    if long_url:
        for lang in ("id", "en"):
            source = project / f"speeches/2025/kenegaraan.{lang}.md"
            source.write_text(source.read_text().replace("---\n", f"---\nslug: {LONG_SLUG}\n", 1))
    with (project / "speechgen.toml").open("a") as f:
        f.write(f'\n[pdf]\nfonts = ["static/fonts/{ARABIC_FONT.name}"]\n\n[qr]\ncard_size = "{size}"\n')
        if certificate is not None:
            f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    if certificate is not None:
        (project / "publisher.pem").write_bytes(certificate)


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sheet_of(project: Path) -> Path:
    found = sorted((project / "site").rglob("kartu-qr.pdf"))
    assert len(found) == 1
    return found[0]


def build_cards(project: Path) -> None:
    build(load_config(project), pdf=False, search=False, cache=Cache.disabled())


def build_what_fits(project: Path, names: list[str], size: str) -> list[str]:
    """Builds the sheet; a name the build refuses is named by its line and left out, then the
    build runs again. Returns the names printed."""
    try:
        build_cards(project)
        return names
    except SourceError as error:
        problems = error.problems
    lines = (project / "recipients.yaml").read_text("utf-8").split("\n")
    refused = set()
    for problem in problems:
        assert problem.path == "recipients.yaml" and problem.line is not None, str(problem)
        assert "does not fit" in problem.message, str(problem)
        refused.add(lines[problem.line - 1].split("id: ", 1)[1])
    entries = (project / "recipients.yaml").read_text("utf-8").split("  - ")[1:]
    kept = [e for e in entries if e.split("\n", 1)[0].removeprefix("id: ") not in refused]
    printed = [n for e, n in zip(entries, names) if e in kept]
    for e, n in zip(entries, names):
        if e not in kept:
            # a word wider than the card's column at the smallest size may be refused at any length
            assert len(n) > ALWAYS_FIT[size] or max(map(len, n.split())) > 20, f"{n!r} should fit on {size}"
    (project / "recipients.yaml").write_text("recipients:\n" + "".join("  - " + e for e in kept), "utf-8")
    build_cards(project)
    return printed


# --- what the PDF says -----------------------------------------------------------------------


def card_boxes(layout: CardLayout) -> list[tuple[float, float, float, float]]:
    """Each place's cut lines on the sheet, in points (x0, top, x1, bottom), reading order."""
    cols, rows = layout.grid
    x0, y0 = layout.origin
    return [((x0 + c * layout.width_mm) * MM, (y0 + r * layout.height_mm) * MM,
             (x0 + (c + 1) * layout.width_mm) * MM, (y0 + (r + 1) * layout.height_mm) * MM)
            for r in range(rows) for c in range(cols)]


def text_lines(chars: list[dict], height: float) -> list[dict]:
    """Chars in lines: those on one baseline with less than an em between them."""
    by_baseline: dict[float, list[dict]] = {}
    for char in chars:
        by_baseline.setdefault(round(height - char["matrix"][5], 1), []).append(char)
    lines = []
    for row in by_baseline.values():
        row.sort(key=lambda c: c["x0"])
        current = [row[0]]
        for char in row[1:]:
            if char["x0"] - max(c["x1"] for c in current) > char["size"]:
                lines.append(current)
                current = [char]
            else:
                current.append(char)
        lines.append(current)
    return [dict(x0=min(c["x0"] for c in line), x1=max(c["x1"] for c in line), top=min(c["top"] for c in line),
                 bottom=max(c["bottom"] for c in line), text="".join(c["text"] for c in line)) for line in lines]


def overlaps(a: dict, b: dict, room: float = 0.0) -> bool:
    return (a["x0"] < b["x1"] + room and b["x0"] < a["x1"] + room
            and a["top"] < b["bottom"] + room and b["top"] < a["bottom"] + room)


def geometry_faults(pdf: Path, layout: CardLayout) -> list[str]:
    """Everything a print run must not have, page by page and card by card (the first page is
    the print shop's: only its sizes are checked)."""
    faults = []
    cut = CUT_MM * MM
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, 1):
            faults += [f"page {number}: {c['text']!r} at {c['size']:.2f} pt" for c in page.chars
                       if c["size"] < MIN_PT - 0.01]
            if number == 1:
                continue
            codes = [dict(x0=i["x0"], x1=i["x1"], top=i["top"], bottom=i["bottom"]) for i in page.images
                     if 20 * MM < i["x1"] - i["x0"] < layout.width_mm * MM]
            for place, (x0, top, x1, bottom) in enumerate(card_boxes(layout), 1):
                chars = [c for c in page.chars if x0 <= (c["x0"] + c["x1"]) / 2 < x1 and top <= (c["top"] + c["bottom"]) / 2 < bottom]
                where = f"page {number} place {place}"
                for c in chars:
                    if c["x0"] < x0 + cut or c["x1"] > x1 - cut or c["top"] < top + cut or c["bottom"] > bottom - cut:
                        faults.append(f"{where}: {c['text']!r} within {CUT_MM} mm of the cut")
                    for code in codes:
                        if overlaps(c, code):
                            faults.append(f"{where}: {c['text']!r} on the QR code or its quiet zone")
                lines = text_lines(chars, page.height)
                for n, a in enumerate(lines):
                    for b in lines[n + 1:]:
                        if overlaps(a, b, -0.01):
                            faults.append(f"{where}: {a['text']!r} overlaps {b['text']!r}")
    return faults


def cards_lines(pdf: Path, layout: CardLayout) -> list[list[str]]:
    """Each printed card's lines of text, top to bottom, card after card (pages 2 on)."""
    found = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages[1:]:
            for x0, top, x1, bottom in card_boxes(layout):
                chars = [c for c in page.chars if x0 <= c["x0"] < x1 and top <= c["top"] < bottom]
                if chars:
                    lines = sorted(text_lines(chars, page.height), key=lambda line: (line["top"], line["x0"]))
                    found.append([line["text"] for line in lines])
    return found


def page_text(pdf: Path, first: int = 1) -> str:
    """The words of the sheet from page `first` on (2: the cards, without the print shop's page)."""
    out = subprocess.run(["pdftotext", "-f", str(first), str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return " ".join(out.split())


# --- the sheets ------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("size", ["A6", "A7"])
def test_no_text_overlaps_touches_the_code_or_nears_the_cut(project: Path, size: str, signed: bool,
                                                           certificate: bytes) -> None:
    names = every_name()
    card_project(project, size, names, certificate if signed else None)
    printed = build_what_fits(project, names, size)
    sheet = sheet_of(project)
    assert geometry_faults(sheet, LAYOUTS[size]) == []
    text = page_text(sheet)
    assert text.count("Pindai dengan kamera ponsel") == len(printed)
    assert text.count("This link never asks for a login or payment.") == len(printed)
    assert ("Publisher certificate SHA-256" in text) == signed
    assert LONG_ID in text.replace(" ", "")                     # the longest URL is printed whole
    for url_line in (line for line in subprocess.run(["pdftotext", "-layout", str(sheet), "-"], capture_output=True,
                                                     text=True, check=True).stdout.split("\n") if "salinan/" in line):
        assert not url_line.rstrip().endswith("-")              # never broken at a hyphen


def test_a_name_that_cannot_fit_is_an_error_naming_its_line(project: Path) -> None:
    from speechgen.cli import main

    long = name_of("latin", 200, 1) + " " + name_of("cyrillic", 200, 1)
    card_project(project, "A7", ["Dewan Perwakilan Rakyat", long], None, long_url=False)
    result = CliRunner().invoke(main, ["build", "--no-pdf", str(project)])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert f"recipients.yaml:5: the name of recipient 'r001' ({len(long)} characters) does not fit in 3 lines " \
           "at 6 pt on A7 cards" in result.output


def test_an_arabic_name_prints_with_the_bundled_arabic_font(project: Path, tmp_path: Path) -> None:
    name = "Konsulat Jenderal RI di Jeddah (جدة)"
    card_project(project, "A6", ["القنصلية العامة لجمهورية إندونيسيا في جدة", name], None, long_url=False)
    build_cards(project)
    sheet = sheet_of(project)
    with pdfplumber.open(sheet) as document:
        fonts = {c["fontname"].split("+")[-1] for page in document.pages for c in page.chars if c["text"] in "جدة"}
    assert fonts and all("Arabic" in f for f in fonts), fonts      # the books' Naskh, before any project font
    text = page_text(sheet)
    assert "Konsulat Jenderal RI di Jeddah" in text and "Untuk / For:" in text
    raw = subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout
    assert all(char in raw for char in "جدة")
    assert geometry_faults(sheet, LAYOUTS["A6"]) == []


def test_a_name_in_a_script_only_a_project_font_has_prints_with_it(project: Path) -> None:
    georgian = Path("/usr/share/fonts/truetype/noto/NotoSansGeorgian-Regular.ttf")
    if not georgian.is_file():
        pytest.skip("Debian's fonts-noto-core is not installed")
    name = "საქართველოს საელჩო"
    card_project(project, "A7", [name, "Arsip Nasional"], None, long_url=False)
    shutil.copy(georgian, project / "static/fonts" / georgian.name)
    config = project / "speechgen.toml"
    config.write_text(config.read_text().replace(f'fonts = ["static/fonts/{ARABIC_FONT.name}"]',
                                                 f'fonts = ["static/fonts/{georgian.name}"]'))
    build_cards(project)
    sheet = sheet_of(project)
    with pdfplumber.open(sheet) as document:
        fonts = {c["fontname"].split("+")[-1] for page in document.pages for c in page.chars if c["text"] in name
                 and c["text"] != " "}
    assert fonts and all("Georgian" in f for f in fonts), fonts
    assert geometry_faults(sheet, LAYOUTS["A7"]) == []


# --- proof before release, final after ---------------------------------------------------------


def fingerprint_of(project: Path) -> str:
    ledger = (project / "editions.txt").read_text().split("\n")
    entry = next(line for line in ledger if line.startswith("2025/kenegaraan id 1 "))
    sha = entry.split()[4]
    return " ".join(sha[i:i + 4] for i in range(0, 16, 4))


@pytest.mark.pdf
def test_a_sheet_is_a_proof_until_release_and_final_after(project: Path) -> None:
    from speechgen.release import release

    config = load_config(project)
    report = build(config, pdf=True, search=False)
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    assert page_text(sheet).count(PROOF_MARK) == 3 + 1           # every card, and the print shop's page
    text = page_text(sheet, first=2)
    assert text.count(PROOF_MARK) == 3
    assert "fingerprint" not in text and "Edisi 1" not in text
    assert report.proofs == ("2025/kenegaraan",)
    rows = list(csv.reader(io.StringIO((sheet.with_suffix(".csv")).read_text("utf-8-sig"))))
    assert rows[0][-1] == "status" and {r[-1] for r in rows[1:]} == {"proof"}
    assert {r[6] for r in rows[1:]} == {""}

    assert release(load_config(project), jobs=1)
    report = build(load_config(project), pdf=True, search=False)
    fingerprint = fingerprint_of(project)
    text = page_text(sheet)
    assert PROOF_MARK not in text and "CETAK COBA" not in text and f"Final · Edisi 1 / Edition 1 · {fingerprint}" in text
    printed = cards_lines(sheet, LAYOUTS["A6"])
    assert len(printed) == 3
    assert all(f"Sidik PDF / PDF fingerprint: Edisi 1 / Edition 1 · {fingerprint}" in lines for lines in printed)
    assert report.proofs == ()
    rows = list(csv.reader(io.StringIO((sheet.with_suffix(".csv")).read_text("utf-8-sig"))))
    assert {r[-1] for r in rows[1:]} == {"final"} and {r[6] for r in rows[1:]} == {fingerprint}


# --- a sheet a print shop can use alone ---------------------------------------------------------


def test_the_first_page_tells_the_print_shop_how_to_print_and_cut(project: Path) -> None:
    build_cards(project)
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    with pdfplumber.open(sheet) as document:
        first = " ".join((document.pages[0].extract_text() or "").split())
        assert len(document.pages) == 1 + 1                    # three A6 cards: one sheet after it
    for words in ("Pidato Uji Kenegaraan", "A6", "105 × 148 mm", "4 per lembar A4", "3 kartu", "1 lembar",
                  "halaman 2–2", "tanda potong", "crop marks", "stack-cut", "100%", "kartu-qr.csv", PROOF_MARK):
        assert words in first, words
    assert "No. 1" in first and "No. 3" in first              # the piles: one card each


def test_the_sheet_has_an_output_intent_and_no_interpolated_image(project: Path) -> None:
    import pikepdf

    from test_qr import _logo

    _logo(project / "static" / "logo.jpg")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[qr]\nlogo = "static/logo.jpg"\n')
    build_cards(project)
    with pikepdf.open(project / "site/2025/kenegaraan/kartu-qr.pdf") as pdf:
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and str(intents[0].S) == "/GTS_PDFX"
        assert "sRGB" in str(intents[0].OutputConditionIdentifier)
        assert intents[0].DestOutputProfile.N == 3
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert len(images) >= 3 + 1                            # the codes, and the logo on them and as emblem
        assert all(o.get("/Interpolate") is False for o in images)


def test_every_frame_keeps_its_slots_apart() -> None:
    """The most each slot may take, stacked, still leaves the code and the cut margins free."""
    for size, frame in FRAMES.items():
        layout = LAYOUTS[size]
        stack = frame.stack + frame.title.height + frame.gap + frame.date.height + 1.5 * frame.gap \
            + frame.label.height + frame.gap / 2 + frame.name.height
        code_left, code_top, side = frame.code
        assert side >= layout.qr_mm
        if size == "A6":
            assert stack < code_top
        else:
            assert frame.column[0] > code_left + side
            assert stack < frame.foot[2]
        scan_bottom = code_top + side + 1.0 + frame.scan[2].height
        assert scan_bottom < frame.foot[2]
        below = frame.mark.height + frame.cert.height + frame.safe.height + 3 * frame.gap
        assert frame.foot[2] + frame.url.height + frame.gap <= layout.height_mm - frame.margin - below
        assert frame.margin >= CUT_MM + 1
        for slot in (frame.serial, frame.publisher, frame.title, frame.date, frame.label, frame.name, frame.scan[2],
                     frame.url, frame.mark, frame.cert, frame.safe):
            assert slot.floor >= MIN_PT


def test_a_sheet_laid_out_in_parts_keeps_its_output_intent(project: Path, monkeypatch) -> None:
    import pikepdf

    from speechgen.render import cards

    monkeypatch.setattr(cards, "CARDS_PER_PART", 4)             # six cards: two parts, joined
    card_project(project, "A6", [f"Lembaga Uji {n}" for n in range(6)], None, long_url=False)
    build_cards(project)
    with pikepdf.open(sheet_of(project)) as pdf:
        assert len(pdf.pages) == 1 + 2 and "/OutputIntents" in pdf.Root


def test_a_name_keeps_one_direction_on_every_line() -> None:
    """A Latin name with an Arabic word in it reads left to right on every line, whichever word
    starts a line; an Arabic name right to left (Unicode's paragraph rule, over the whole name)."""
    from speechgen.render import cards

    noto = Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf")
    fonts = cards.card_fonts((noto,))
    slot = cards.Slot(width=30.0, height=40.0, size=9.0, floor=9.0, lines=6)
    starts = 0
    name = "Konsulat Jenderal Republik Indonesia (القنصلية العامة لجمهورية إندونيسيا) di Jeddah"
    for width in range(18, 60):               # wherever the lines break
        fitted = cards.fit(cards.words(name, True), dataclasses.replace(slot, width=float(width), lines=9), fonts)
        if fitted is None:                     # a word wider than the slot
            continue
        starts += any(cards._rtl(re.sub("<[^>]+>", "", str(line.markup))) for line in fitted.lines)
        assert [line.rtl for line in fitted.lines] == [False] * len(fitted.lines), width
    assert starts                              # some width puts the Arabic word first on a line
    arabic = cards.fit(cards.words("القنصلية العامة لجمهورية إندونيسيا في جدة (Jeddah) Arab Saudi", True), slot, fonts)
    assert arabic is not None and len(arabic.lines) > 1
    assert [line.rtl for line in arabic.lines] == [True] * len(arabic.lines)
