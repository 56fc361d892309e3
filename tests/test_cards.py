"""The printable card sheet and the mailroom list: rendered as a printer would (pdftoppm, 150 dpi),
each card's code decodes to that card's institution's copy, and the words on it are right."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config
from speechgen.release import release
from speechgen.render.cards import LAYOUTS, SHEET_MM, place, slots

BASE = "https://pidato.example.go.id/arsip/2025/kenegaraan/salinan/"
DPI = 150
NAMES = ["Dewan Perwakilan Rakyat", "Majelis Permusyawaratan Rakyat", "Dewan Perwakilan Daerah",
         "Mahkamah Agung", "=Badan Pemeriksa Keuangan", "Arsip Nasional"]
IDS = ["dpr", "mpr", "dpd", "ma", "bpk", "arsip"]


def six_recipients(project: Path) -> None:
    """Six institutions (two sheets of A6); one name starts with '=' as a spreadsheet formula would."""
    groups = ["lembaga-negara"] * 5 + ["arsip"]
    (project / "recipients.yaml").write_text("recipients:\n" + "".join(
        f"  - id: {i}\n    name: \"{n}\"\n    group: {g}\n    address: Jalan Uji No. {k}, Kota Uji\n"
        for k, (i, n, g) in enumerate(zip(IDS, NAMES, groups), 1)))


def set_qr(project: Path, text: str) -> None:
    with (project / "speechgen.toml").open("a") as f:
        f.write("\n[qr]\n" + text)


def pages(pdf: Path, tmp: Path) -> list[Image.Image]:
    """The card sheets as printed, after the print shop's first page."""
    subprocess.run(["pdftoppm", "-r", str(DPI), "-f", "2", "-png", str(pdf), str(tmp / "sheet")], check=True)
    return [Image.open(p) for p in sorted(tmp.glob("sheet-*.png"))]


def cells(page: Image.Image, size: str) -> list[Image.Image]:
    """Each card's area of a rendered sheet, in card order (left to right, top to bottom)."""
    layout = LAYOUTS[size]
    cols, rows = layout.grid
    x0, y0 = layout.origin
    px = lambda mm: round(mm / 25.4 * DPI)   # noqa: E731
    assert abs(page.width - px(SHEET_MM[0])) <= 1 and abs(page.height - px(SHEET_MM[1])) <= 1
    return [page.crop((px(x0 + c * layout.width_mm), px(y0 + r * layout.height_mm),
                       px(x0 + (c + 1) * layout.width_mm), px(y0 + (r + 1) * layout.height_mm)))
            for r in range(rows) for c in range(cols)]


def card_text(pdf: Path, index: int, size: str) -> str:
    """The words printed in one place of the sheets (pdftotext of the place's area, places counted
    over all sheets in reading order, after the print shop's page), whitespace collapsed."""
    layout = LAYOUTS[size]
    cols, _ = layout.grid
    page, place = divmod(index, layout.per_sheet)
    page += 1
    x0, y0 = layout.origin
    pt = lambda mm: str(round(mm / 25.4 * 72))   # noqa: E731
    out = subprocess.run(
        ["pdftotext", "-r", "72", "-f", str(page + 1), "-l", str(page + 1),
         "-x", pt(x0 + (place % cols) * layout.width_mm), "-y", pt(y0 + (place // cols) * layout.height_mm),
         "-W", pt(layout.width_mm), "-H", pt(layout.height_mm), str(pdf), "-"],
        capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def decoded(cell: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(cell)]


@pytest.mark.pdf
def test_each_card_on_the_sheet_decodes_to_its_own_copy(project: Path, tmp_path: Path) -> None:
    six_recipients(project)
    release(load_config(project), jobs=1)                       # a final sheet: it prints the fingerprint
    build(load_config(project), pdf=True)
    site = project / "site"
    sheet = site / "2025/kenegaraan/kartu-qr.pdf"
    rendered = pages(sheet, tmp_path)
    assert len(rendered) == 2                                   # 6 cards, 4 to an A4 sheet
    found = [decoded(cell) for page in rendered for cell in cells(page, "A6")]
    # stack-cut order: sheet 1 holds 1, 3, 5, sheet 2 holds 2, 4, 6; the last place of each is empty
    assert found == [[BASE + IDS[n] + "/"] for n in (0, 2, 4)] + [[]] + [[BASE + IDS[n] + "/"] for n in (1, 3, 5)] + [[]]
    for rid in IDS:                                             # each URL is a page of this build
        assert (site / f"2025/kenegaraan/salinan/{rid}/index.html").is_file()

    manifest = json.loads((site / "manifest.json").read_text())
    speech = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")
    assert site / speech["cards"] == sheet
    sha = speech["languages"]["id"]["pdf"]["sha256"]
    fingerprint = " ".join(sha[i:i + 4] for i in range(0, 16, 4))
    for index, (rid, name) in enumerate(zip(IDS, NAMES)):
        on_sheet, at = place(index + 1, len(IDS), LAYOUTS["A6"])
        text = card_text(sheet, (on_sheet - 1) * 4 + at - 1, "A6")
        assert text.startswith("SEKRETARIAT UJI No. ") or text.startswith("No. ")
        assert f"No. {index + 1:03d}/006" in text
        assert "Pindai dengan kamera ponsel / Scan with your phone's camera" in text
        assert f"Untuk / For: {name}" in text
        assert "Pidato Uji Kenegaraan 15 Agustus 2025" in text
        assert f"https://pidato.example.go.id/arsip/2025/kenegaraan/salinan/{rid}/" in text.replace(" ", "")
        # the first edition's number may stand before it (see the edition tests below)
        assert re.search(f"Sidik PDF / PDF fingerprint: (Edisi 1 / Edition 1 · )?{fingerprint}", text)
        assert "Tautan ini tidak pernah meminta login atau pembayaran." in text
        assert "This link never asks for a login or payment." in text
        assert all(other not in text for other in NAMES if other != name and other not in name)
    # the fingerprint printed on the card is the one the copy page shows
    assert fingerprint in (site / "2025/kenegaraan/salinan/dpr/index.html").read_text()


def test_crop_marks_sit_on_the_cut_lines(project: Path, tmp_path: Path) -> None:
    build(load_config(project), pdf=False)
    page = pages(project / "site/2025/kenegaraan/kartu-qr.pdf", tmp_path)[0].convert("L")
    px = lambda mm: round(mm / 25.4 * DPI)   # noqa: E731
    # the vertical cut at 105 mm: a mark at the top and bottom edges, none beside it
    assert min(page.getpixel((px(105) + d, px(5))) for d in (-1, 0, 1)) < 128
    assert min(page.getpixel((px(105) + d, px(292))) for d in (-1, 0, 1)) < 128
    assert page.getpixel((px(100), px(5))) == 255
    # the horizontal cut at 148.5 mm, at both edges, and the cross in the middle
    assert min(page.getpixel((px(4), px(148.5) + d)) for d in (-1, 0, 1)) < 128
    assert min(page.getpixel((px(206), px(148.5) + d)) for d in (-1, 0, 1)) < 128
    assert min(page.getpixel((px(105) + d, px(147))) for d in (-1, 0, 1)) < 128


def test_a7_cards_eight_to_a_sheet_still_decode(project: Path, tmp_path: Path) -> None:
    six_recipients(project)
    set_qr(project, 'card_size = "A7"\n')
    build(load_config(project), pdf=False)
    rendered = pages(project / "site/2025/kenegaraan/kartu-qr.pdf", tmp_path)
    assert len(rendered) == 1
    found = [decoded(cell) for cell in cells(rendered[0], "A7")]
    assert found == [[BASE + i + "/"] for i in IDS] + [[], []]


def test_cards_with_a_logo_still_decode_at_150_dpi(project: Path, tmp_path: Path) -> None:
    from test_qr import _logo

    _logo(project / "static" / "logo.jpg")
    set_qr(project, 'logo = "static/logo.jpg"\n')
    build(load_config(project), pdf=False)
    page = pages(project / "site/2025/kenegaraan/kartu-qr.pdf", tmp_path)[0]
    found = [decoded(cell) for cell in cells(page, "A6")]
    assert found == [[BASE + "dpr/"], [BASE + "mpr/"], [BASE + "arsip/"], []]
    colours = page.convert("RGB").getcolors(1 << 24)
    assert any(r > 150 and g < 80 and b < 80 for _, (r, g, b) in colours), "the logo is printed"


def test_no_fingerprint_line_without_pdfs(project: Path) -> None:
    build(load_config(project), pdf=False)
    text = subprocess.run(["pdftotext", "-f", "2", str(project / "site/2025/kenegaraan/kartu-qr.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "fingerprint" not in text and "Untuk / For:" in text
    rows = list(csv.reader(io.StringIO((project / "site/2025/kenegaraan/kartu-qr.csv").read_text("utf-8-sig"))))
    assert rows[0][6] == "fingerprint" and all(row[6] == "" for row in rows[1:])


@pytest.mark.pdf
def test_mailroom_list_matches_the_cards(project: Path) -> None:
    six_recipients(project)
    release(load_config(project), jobs=1)                       # final: the list carries the fingerprint
    build(load_config(project), card_pdfs=False, pdf=True)
    raw = (project / "site/2025/kenegaraan/kartu-qr.csv").read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))              # spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["no", "id", "name", "group", "address", "url", "fingerprint", "sheet", "slot", "status"]
    assert {r[9] for r in rows[1:]} == {"final"}
    assert [r[0] for r in rows[1:]] == [f"{n:03d}/006" for n in range(1, 7)]
    # where each card is printed: two A6 sheets in stack-cut order (1, 3, 5 | 2, 4, 6)
    assert [(r[7], r[8]) for r in rows[1:]] == [("1", "1"), ("2", "1"), ("1", "2"), ("2", "2"), ("1", "3"), ("2", "3")]
    assert [r[1] for r in rows[1:]] == IDS
    assert rows[1][2:6] == ["Dewan Perwakilan Rakyat", "lembaga-negara", "Jalan Uji No. 1, Kota Uji", BASE + "dpr/"]
    assert rows[5][2] == "'=Badan Pemeriksa Keuangan"           # never run as a formula
    manifest = json.loads((project / "site/manifest.json").read_text())
    sha = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")["languages"]["id"]["pdf"]["sha256"]
    assert {r[6] for r in rows[1:]} == {" ".join(sha[i:i + 4] for i in range(0, 16, 4))}
    assert not (project / "site/2025/kenegaraan/kartu-qr.pdf").exists()     # card_pdfs=False


@pytest.mark.parametrize("size", ["A6", "A7"])
def test_layouts_fit_the_sheet(size: str) -> None:
    layout = LAYOUTS[size]
    cols, rows = layout.grid
    x0, y0 = layout.origin
    assert x0 >= 0 and y0 >= 0 and layout.per_sheet == {"A6": 4, "A7": 8}[size]
    assert x0 + cols * layout.width_mm <= SHEET_MM[0] and y0 + rows * layout.height_mm <= SHEET_MM[1]


def test_codes_print_sharp_at_printer_resolution(project: Path, tmp_path: Path) -> None:
    """One pixel per module, scaled without smoothing: at 300 dpi the code is pure black and white."""
    build(load_config(project), pdf=False)
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    assert sheet.read_bytes().count(b"/Interpolate false") >= 3
    layout = LAYOUTS["A6"]
    px = lambda mm: round(mm / 25.4 * 300)   # noqa: E731
    # a square inside the first card's code (centred horizontally, below the speech's heading)
    left = px((layout.width_mm - layout.qr_mm) / 2 + 5)
    subprocess.run(["pdftoppm", "-r", "300", "-f", "2", "-l", "2", "-x", str(left), "-y", str(px(60)),
                    "-W", str(px(30)), "-H", str(px(30)), "-gray", "-png", str(sheet), str(tmp_path / "zoom")],
                   check=True)
    image = Image.open(next(tmp_path.glob("zoom*.png"))).convert("L")
    values = {v for _, v in image.getcolors(256)}
    assert values == {0, 255}


def test_the_pdf_emblem_heads_the_cards_when_there_is_no_qr_logo(project: Path, tmp_path: Path) -> None:
    from test_qr import _logo

    _logo(project / "static" / "lambang-besar.jpg")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[pdf]\nemblem = "static/lambang-besar.jpg"\n')
    build(load_config(project), pdf=False)
    page = pages(project / "site/2025/kenegaraan/kartu-qr.pdf", tmp_path)[0].convert("RGB")
    first = cells(page, "A6")[0]
    head, code = first.crop((0, 0, first.width, first.height // 4)), first.crop((0, first.height // 4, first.width, first.height))
    red = lambda im: sum(n for n, (r, g, b) in im.getcolors(1 << 24) if r > 150 and g < 80 and b < 80)  # noqa: E731
    assert red(head) > 100 and red(code) == 0          # on the card's head, not over the code
    assert decoded(first) == [BASE + "dpr/"]


def test_a_sheet_laid_out_in_parts_is_one_file_in_card_order(project: Path, tmp_path: Path, monkeypatch) -> None:
    """Large sheets are laid out a part at a time (memory stays bounded) and joined: the cards
    keep their order across parts, every code decodes, and the joined file is the same every time."""
    from speechgen.cache import Cache
    from speechgen.render import cards

    monkeypatch.setattr(cards, "CARDS_PER_PART", 4)             # six cards: two parts
    six_recipients(project)
    build(load_config(project), cache=Cache.disabled())
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    rendered = pages(sheet, tmp_path)
    assert len(rendered) == 2
    found = [zxingcpp.read_barcodes(cell)[0].text if zxingcpp.read_barcodes(cell) else None
             for page in rendered for cell in cells(page, "A6")]
    assert found == [BASE + f"{IDS[n]}/" if n is not None else None for n in (0, 2, 4, None, 1, 3, 5, None)]
    again = tmp_path / "again"
    build(load_config(project), out=again, cache=Cache.disabled())
    assert (again / "2025/kenegaraan/kartu-qr.pdf").read_bytes() == sheet.read_bytes()


# --- stack-cut order, the mailroom list's guard, the card's words ------------------------------


def many_recipients(project: Path, count: int, size: str = "A6") -> None:
    """`count` institutions of the groups the fixture's state speech is sent to, and the card size."""
    (project / "recipients.yaml").write_text("recipients:\n" + "".join(
        f"  - id: r{n:04d}\n    name: Lembaga Uji {n}\n    group: {'arsip' if n == count else 'lembaga-negara'}\n"
        for n in range(1, count + 1)))
    set_qr(project, f'card_size = "{size}"\n')


def numbers_by_place(pdf: Path, size: str) -> list[list[int | None]]:
    """Per page of the sheet file, the serial number printed in each place (reading order), None
    for an empty place: from where pdftotext finds each 'NNN/TOTAL' word on the page."""
    layout = LAYOUTS[size]
    cols, _ = layout.grid
    x0, y0 = layout.origin
    mm = lambda pt: float(pt) * 25.4 / 72   # noqa: E731
    out = subprocess.run(["pdftotext", "-f", "2", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for page in re.findall(r"<page .*?</page>", out, re.S):
        places: list[int | None] = [None] * layout.per_sheet
        for x, y, word in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', page):
            if (serial := re.fullmatch(r"(\d+)/\d+", word)) is not None:
                col, row = int((mm(x) - x0) // layout.width_mm), int((mm(y) - y0) // layout.height_mm)
                assert places[row * cols + col] is None, "one serial a card"
                places[row * cols + col] = int(serial.group(1))
        found.append(places)
    return found


@pytest.mark.parametrize(("count", "size"), [(1, "A6"), (4, "A6"), (5, "A6"), (6, "A6"), (17, "A7"), (450, "A7")])
def test_stack_cut_order_makes_piles_of_consecutive_numbers(count: int, size: str) -> None:
    """Place k of sheet s carries card k·S + s + 1: cutting the stack gives runs 1..S, S+1..2S, ..."""
    layout = LAYOUTS[size]
    sheets = -(-count // layout.per_sheet)
    laid = slots(tuple(range(1, count + 1)), layout)           # numbers stand in for the copies
    assert len(laid) == sheets * layout.per_sheet
    piles = [[laid[s * layout.per_sheet + k] for s in range(sheets)] for k in range(layout.per_sheet)]
    run = [n for pile in piles for n in pile if n is not None]
    assert run == list(range(1, count + 1))                    # pile after pile, top sheet first
    for s in range(sheets):                                    # an empty place ends its sheet
        sheet = laid[s * layout.per_sheet:(s + 1) * layout.per_sheet]
        assert None not in sheet[:sum(n is not None for n in sheet)]
    for n in range(1, count + 1):                              # the mailroom list's sheet and slot
        on_sheet, at = place(n, count, layout)
        assert laid[(on_sheet - 1) * layout.per_sheet + at - 1] == n


def test_stack_cut_order_holds_over_the_whole_sheet_file_laid_out_in_parts(project: Path) -> None:
    """450 A7 cards: 57 sheets laid out in three parts (25, 25 and 7 sheets) and joined. Each
    printed place carries card k·57 + s + 1, read from the PDF; the six places past 450 are empty."""
    from speechgen.render import cards

    many_recipients(project, 450, "A7")
    assert [len(part) for part in cards.parts(tuple(range(450)), LAYOUTS["A7"])] == [200, 200, 56]   # type: ignore[arg-type]
    build(load_config(project))
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    found = numbers_by_place(sheet, "A7")
    assert len(found) == 57
    expected = [[k * 57 + s + 1 if k * 57 + s + 1 <= 450 else None for k in range(8)] for s in range(57)]
    assert found == expected
    assert [s for s, places in enumerate(found, 1) if places[-1] is None] == [52, 53, 54, 55, 56, 57]
    rows = list(csv.reader(io.StringIO(sheet.with_suffix(".csv").read_text("utf-8-sig"))))
    assert [int(r[0].split("/")[0]) for r in rows[1:]] == list(range(1, 451))    # rows in card order
    for row in rows[1:]:                                       # sheet and slot say where the card is
        assert found[int(row[7]) - 1][int(row[8]) - 1] == int(row[0].split("/")[0])


HOSTILE = ["Dewan;=cmd|' /C calc'!A0", "Majelis, +1+1", 'Dewan ; "=2+3"', "-Mahkamah", "Badan;  @SUM(A1)",
           "Arsip\u00a0,\u00a0=1"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def test_the_mailroom_list_never_holds_a_formula_for_comma_or_semicolon_spreadsheets(project: Path) -> None:
    """Every cell quoted; no cell, nor any piece a ';' spreadsheet (Indonesian Excel) or a ','
    one makes of it, starts with = + - @ once spaces and quotes are trimmed."""
    (project / "recipients.yaml").write_text("recipients:\n" + "".join(
        f"  - id: {rid}\n    name: {json.dumps(name)}\n    group: {'arsip' if k == 6 else 'lembaga-negara'}\n"
        f"    address: {json.dumps('Jalan Uji, -' + str(k) + ';@x')}\n"
        for k, (rid, name) in enumerate(zip(IDS, HOSTILE), 1)))
    build(load_config(project), card_pdfs=False)
    text = (project / "site/2025/kenegaraan/kartu-qr.csv").read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")[:-1]
    assert len(lines) == 7 and all(line.startswith('"') and line.endswith('"') for line in lines)
    rows = list(csv.reader(io.StringIO(text)))
    assert all(len(row) == 10 for row in rows)
    assert [r[2] for r in rows[1:]] == ["Dewan;'=cmd|' /C calc'!A0", "Majelis,' +1+1", "Dewan ;' \"=2+3\"",
                                        "'-Mahkamah", "Badan;'  @SUM(A1)", "Arsip\u00a0,'\u00a0=1"]
    assert rows[1][4] == "Jalan Uji,' -1;'@x"
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            for cell in row:
                for piece in re.split(r"[,;]", cell) + [cell]:
                    assert not piece.lstrip(" \"\u00a0").startswith(FORMULA), (delimiter, cell)
                    assert not piece.startswith(FORMULA), (delimiter, cell)


def test_every_card_says_how_to_scan_in_the_sites_languages(project: Path) -> None:
    many_recipients(project, 5, "A7")
    build(load_config(project))
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    text = " ".join(subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert text.count("Pindai dengan kamera ponsel / Scan with your phone's camera") == 5
    # a site in Indonesian only says it in Indonesian
    toml = project / "speechgen.toml"
    toml.write_text(toml.read_text().replace('languages = ["id", "en"]', 'languages = ["id"]'))
    (project / "speeches/2025/kenegaraan.en.md").unlink()
    build(load_config(project))
    text = " ".join(subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert text.count("Pindai dengan kamera ponsel") == 5 and "Scan with" not in text


def with_edition(monkeypatch, edition: int | None) -> dict:
    """The card sheets of the next builds are final and carry `chosen["edition"]`, whatever the
    build passes."""
    from speechgen.render import cards

    sheet_html, chosen = cards.card_sheet_html, {"edition": edition}
    monkeypatch.setattr(cards, "card_sheet_html", lambda *args, **kwargs: sheet_html(
        *args, **{**kwargs, "edition": chosen["edition"], "proof": False}))
    return chosen


def test_the_edition_stands_beside_the_fingerprint_when_given(project: Path, tmp_path: Path, monkeypatch) -> None:
    chosen = with_edition(monkeypatch, None)
    # The edition is forced behind the build's back, so the build's memory of the sheets is left out.
    build(load_config(project), out=tmp_path / "plain", cache=Cache.disabled())
    plain = subprocess.run(["pdftotext", str(tmp_path / "plain/2025/kenegaraan/kartu-qr.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "Edisi" not in plain and "Edition" not in plain
    chosen["edition"] = 2
    build(load_config(project), out=tmp_path / "no-pdf", cache=Cache.disabled())   # no PDF: the edition alone
    text = " ".join(subprocess.run(["pdftotext", "-f", "2", str(tmp_path / "no-pdf/2025/kenegaraan/kartu-qr.pdf"), "-"],
                                   capture_output=True, text=True, check=True).stdout.split())
    assert text.count("Edisi 2 / Edition 2") == 3 and "fingerprint" not in text


@pytest.mark.pdf
def test_the_edition_is_printed_before_the_fingerprint(project: Path) -> None:
    release(load_config(project), jobs=1)
    build(load_config(project), pdf=True)
    site = project / "site"
    manifest = json.loads((site / "manifest.json").read_text())
    sha = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")["languages"]["id"]["pdf"]["sha256"]
    fingerprint = " ".join(sha[i:i + 4] for i in range(0, 16, 4))
    texts = [card_text(site / "2025/kenegaraan/kartu-qr.pdf", place, "A6") for place in range(3)]
    assert all(f"Sidik PDF / PDF fingerprint: Edisi 1 / Edition 1 · {fingerprint}" in text for text in texts)


def test_card_copy_page_and_list_print_one_serial_at_a_thousand_recipients(project: Path, monkeypatch) -> None:
    """'0007/1000' everywhere: the card, the copy page and the mailroom list use one rule."""
    from speechgen.render import cards

    many_recipients(project, 1000, "A6")
    every = cards.parts
    monkeypatch.setattr(cards, "CARDS_PER_PART", 4)
    monkeypatch.setattr(cards, "parts", lambda copies, layout: every(copies, layout)[:1])   # sheet 1 only
    build(load_config(project))
    site = project / "site/2025/kenegaraan"
    text = " ".join(subprocess.run(["pdftotext", str(site / "kartu-qr.pdf"), "-"],
                                   capture_output=True, text=True, check=True).stdout.split())
    printed = re.findall(r"No\. (\d+/\d+)", text)
    assert printed == ["0001/1000", "0251/1000", "0501/1000", "0751/1000"]        # 250 sheets, stack-cut
    rows = list(csv.reader(io.StringIO((site / "kartu-qr.csv").read_text("utf-8-sig"))))
    for serial in printed:
        number = int(serial.split("/")[0])
        page = (site / f"salinan/r{number:04d}/index.html").read_text()
        assert f'<p class="copy-number">Salinan nomor {serial}</p>' in page
        assert rows[number][0] == serial
    assert '<p class="copy-number">Salinan nomor 0007/1000</p>' in (site / "salinan/r0007/index.html").read_text()
    assert rows[7][0] == "0007/1000"
