"""QR codes of recipients' copies: each decodes to exactly its copy URL, the page there names the
institution, the symbol keeps its quiet zone, and the build refuses codes that would not scan."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from speechgen.build import build
from speechgen.config import load_config
from speechgen.errors import ConfigError
from speechgen.render.qr import LOGO_SHARE, QUIET_ZONE, QrMaker, _logo_box, load_logo

BASE = "https://pidato.example.go.id/arsip/"
COPIES = {"dpr": "Dewan Perwakilan Rakyat", "mpr": "Majelis Permusyawaratan Rakyat", "arsip": "Arsip Nasional"}


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def set_qr(project: Path, text: str) -> None:
    with (project / "speechgen.toml").open("a") as f:
        f.write("\n[qr]\n" + text)


@pytest.fixture
def site(project: Path) -> Path:
    build(load_config(project), card_pdfs=False)    # the card sheets are tested in test_cards.py
    return project / "site"


def test_every_code_decodes_to_its_copy_page_which_names_the_institution(site: Path) -> None:
    manifest = json.loads((site / "manifest.json").read_text())
    speech = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")
    assert [c["recipient"] for c in speech["copies"]] == list(COPIES)
    for entry in speech["copies"]:
        rid = entry["recipient"]
        url = f"{BASE}2025/kenegaraan/salinan/{rid}/"
        assert entry["url"] == url and entry["name"] == COPIES[rid]
        assert decode((site / entry["qr"]["png"]).read_bytes()) == [url]
        # the decoded URL's path is a page of this build, and it is this institution's copy
        page = site / url.removeprefix(BASE) / "index.html"
        assert page.as_posix().endswith(entry["path"])
        html = page.read_text()
        assert re.search(f'<strong class="copy-recipient"[^>]*>{re.escape(COPIES[rid])}</strong>', html)
        assert "Salinan untuk" in html
        assert f"Salinan nomor {list(COPIES).index(rid) + 1:03d}/003" in html
    assert "cards" not in speech          # built without card sheets: the manifest names none
    # a speech that names no recipients has no copies
    assert "copies" not in next(s for s in manifest["speeches"] if s["id"] == "2024/lama")


def test_copy_pages_stay_out_of_search_engines_sitemap_feeds_and_search(site: Path) -> None:
    html = (site / "2025/kenegaraan/salinan/dpr/index.html").read_text()
    assert '<meta name="robots" content="noindex">' in html
    assert f'<link rel="canonical" href="{BASE}2025/kenegaraan/">' in html
    # the speech's opening, a link to the full text, and the translation
    assert "Pembukaan dengan kata unikpembukaan." in html
    assert '<a class="button" href="#naskah">Baca pidato lengkap</a>' in html
    assert '<a href="../../en/index.html" hreflang="en" lang="en">' in html
    assert "tidak pernah meminta login atau pembayaran" in html
    for name in ("sitemap.xml", "feeds/id.xml", "feeds/en.xml"):
        assert "salinan" not in (site / name).read_text(), name
    search_files = [p for p in site.rglob("*") if p.is_file() and "pagefind" in p.as_posix()]
    for path in search_files:
        assert b"salinan" not in path.read_bytes(), path
    assert "salinan" not in (site / "2025/kenegaraan/index.html").read_text()


def test_png_is_300_dpi_with_a_white_quiet_zone_of_four_modules(site: Path) -> None:
    image = Image.open(site / "2025/kenegaraan/salinan/dpr/qr.png")
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    pixels = image.convert("L")
    width = image.width
    box = _module_px(pixels)
    assert width % box == 0
    modules = width // box
    assert (modules - 2 * QUIET_ZONE - 17) % 4 == 0          # a real QR version: 21, 25, 29 ...
    border = QUIET_ZONE * box
    for x in range(width):
        for y in list(range(border)) + list(range(width - border, width)):
            assert pixels.getpixel((x, y)) == 255 and pixels.getpixel((y, x)) == 255
    # the finder pattern starts right after the quiet zone
    assert pixels.getpixel((border, border)) == 0
    # printed at 300 dpi the code is about the card's planned size, with modules of at least 0.4 mm
    assert 0.4 <= box * 25.4 / 300 and 50 <= width * 25.4 / 300 <= 60


def test_svg_draws_the_same_modules_as_the_png(site: Path) -> None:
    svg = (site / "2025/kenegaraan/salinan/mpr/qr.svg").read_text()
    root = ET.fromstring(svg)
    n = int(root.get("viewBox").split()[2])
    assert root.get("width").endswith("mm")
    drawn = [[False] * n for _ in range(n)]
    d = root.find("{http://www.w3.org/2000/svg}path").get("d")
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", d):
        for i in range(int(w)):
            drawn[int(y)][int(x) + i] = True
    png = Image.open(io.BytesIO((site / "2025/kenegaraan/salinan/mpr/qr.png").read_bytes())).convert("L")
    box = png.width // n
    expected = [[png.getpixel((x * box + box // 2, y * box + box // 2)) == 0 for x in range(n)] for y in range(n)]
    assert drawn == expected
    assert not any(drawn[y][x] for y in range(n) for x in range(n)
                   if min(x, y) < QUIET_ZONE or max(x, y) >= n - QUIET_ZONE)


def _module_px(image: Image.Image) -> int:
    """Pixels per module: the top row of the top-left finder pattern is 7 dark modules."""
    y = next(y for y in range(image.height) if any(image.getpixel((x, y)) == 0 for x in range(image.width)))
    x = start = next(x for x in range(image.width) if image.getpixel((x, y)) == 0)
    while image.getpixel((x, y)) == 0:
        x += 1
    return (x - start) // 7


def test_codes_are_kept_by_url_between_builds(project: Path, monkeypatch) -> None:
    from speechgen.render import qr

    build(load_config(project), card_pdfs=False)
    first = {p: p.read_bytes() for p in (project / "site").rglob("qr.*")}
    monkeypatch.setattr(qr, "_matrix", lambda *a: pytest.fail("a kept code was encoded again"))
    build(load_config(project), card_pdfs=False)
    assert {p: p.read_bytes() for p in (project / "site").rglob("qr.*")} == first
    toml = project / "speechgen.toml"          # another URL is another code: encoded anew
    toml.write_text(toml.read_text().replace("https://pidato.example.go.id/arsip/", "https://x.example/"))
    with pytest.raises(BaseException, match="encoded again"):
        build(load_config(project), card_pdfs=False)


def _logo(path: Path) -> Path:
    """A colourful JPEG logo, the kind an institution sends."""
    from PIL import ImageDraw

    image = Image.new("RGB", (600, 400), (190, 20, 30))
    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 20, 500, 380), fill=(250, 200, 0))
    draw.rectangle((250, 150, 350, 250), fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=92)
    return path


def test_a_code_with_a_logo_uses_ecc_h_and_still_decodes(project: Path) -> None:
    logo = _logo(project / "static" / "logo.jpg")
    set_qr(project, 'logo = "static/logo.jpg"\n')
    build(load_config(project), card_pdfs=False)
    site = project / "site"
    for rid in COPIES:
        png = (site / f"2025/kenegaraan/salinan/{rid}/qr.png").read_bytes()
        assert decode(png) == [f"{BASE}2025/kenegaraan/salinan/{rid}/"]
        colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 20)
        assert any(r > 150 and g < 80 for _, (r, g, b) in colours), "the logo is on the code"
        svg = (site / f"2025/kenegaraan/salinan/{rid}/qr.svg").read_text()
        assert 'href="data:image/png;base64,' in svg           # re-encoded as PNG, never the JPEG
    assert logo.read_bytes()[:200] not in b"".join(p.read_bytes() for p in site.rglob("qr.*"))
    maker = QrMaker(56, logo=load_logo(logo))
    assert maker.error_correction == "H"
    # the logo's white plate covers at most LOGO_SHARE of the symbol
    n = maker.make(BASE + "2025/kenegaraan/salinan/dpr/").modules
    _, side = _logo_box(n)
    assert side * side <= LOGO_SHARE * (n - 2 * QUIET_ZONE) ** 2 <= 0.2 * (n - 2 * QUIET_ZONE) ** 2


def test_logos_that_are_not_png_or_jpeg_or_too_large_are_refused(project: Path) -> None:
    (project / "static" / "logo.png").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    set_qr(project, 'logo = "static/logo.png"\n')
    with pytest.raises(ConfigError) as error:
        build(load_config(project), card_pdfs=False, write=False)
    assert "speechgen.toml:9: [qr] logo logo.png is not a PNG or JPEG image" in str(error.value)

    Image.new("1", (5000, 4000)).save(project / "static" / "logo.png")
    with pytest.raises(ConfigError) as error:
        build(load_config(project), card_pdfs=False, write=False)
    assert "speechgen.toml:9: [qr] logo logo.png is 5000x4000 pixels; the limit is" in str(error.value)

    (project / "speechgen.toml").write_text((project / "speechgen.toml").read_text()
                                           .replace("static/logo.png", "../secret.png"))
    with pytest.raises(ConfigError) as error:
        build(load_config(project), card_pdfs=False, write=False)
    assert "speechgen.toml:9: [qr] logo '../secret.png' must be a PNG or JPEG file in static/" in str(error.value)


def test_http_base_url_is_refused_but_the_preview_may_use_it(project: Path) -> None:
    toml = project / "speechgen.toml"
    toml.write_text(toml.read_text().replace("https://", "http://"))
    with pytest.raises(ConfigError) as error:
        build(load_config(project), card_pdfs=False)
    assert ("speechgen.toml:3: [site] base_url 'http://pidato.example.go.id/arsip/' must start with "
            "https:// to print QR codes") in str(error.value)
    assert not (project / "site").exists()
    build(load_config(project), card_pdfs=False, preview=True)
    assert decode((project / "site/2025/kenegaraan/salinan/dpr/qr.png").read_bytes()) == [
        "http://pidato.example.go.id/arsip/2025/kenegaraan/salinan/dpr/"]
    # without QR codes an http site builds
    set_qr(project, "enabled = false\n")
    build(load_config(project), out=project / "plain")
    assert not (project / "plain/2025/kenegaraan/salinan").exists()
    assert "copies" not in (project / "plain/manifest.json").read_text()


def test_a_layout_whose_modules_print_under_the_minimum_is_refused(project: Path) -> None:
    set_qr(project, 'card_size = "A7"\nmodule_min_mm = 0.8\n')
    with pytest.raises(ConfigError) as error:
        build(load_config(project), card_pdfs=False, write=False)
    message = str(error.value)
    assert message.startswith("speechgen.toml:9: [qr] card_size A7 prints the QR code of https://")
    assert "under module_min_mm = 0.8" in message
    # the same layout with the default minimum (0.4 mm) builds
    toml = project / "speechgen.toml"
    toml.write_text(toml.read_text().replace("module_min_mm = 0.8\n", ""))
    build(load_config(project), card_pdfs=False, write=False)


def test_codes_drawn_by_worker_processes_and_kept_ones_are_the_same(monkeypatch) -> None:
    from speechgen.render import qr

    urls = [f"{BASE}2025/x/salinan/lembaga-{i}/" for i in range(24)]
    here = QrMaker(56).make_all(urls, jobs=1)
    monkeypatch.setattr(qr, "POOL_MIN_CODES", 10)
    pooled = QrMaker(56).make_all(urls, jobs=2)
    assert list(pooled) == urls
    assert [(c.png, c.svg, c.module_png, c.module_mm) for c in pooled.values()] == \
        [(c.png, c.svg, c.module_png, c.module_mm) for c in here.values()]
    kept = [qr.unpack(u, qr.pack(c)) for u, c in pooled.items()]
    assert [(c.png, c.svg, c.module_png, c.module_mm, c.plate) for c in kept] == \
        [(c.png, c.svg, c.module_png, c.module_mm, c.plate) for c in here.values()]
    assert decode(kept[5].png) == [urls[5]]


def qrcode_own_symbol(url: str, level: str) -> list[list[bool]]:
    import qrcode

    from speechgen.render.qr import _LEVELS

    code = qrcode.QRCode(error_correction=_LEVELS[level](), border=QUIET_ZONE, box_size=1)
    code.add_data(url.encode("utf-8"), optimize=0)
    code.make(fit=True)                      # qrcode scores its eight masks itself
    return code.get_matrix()


@pytest.mark.parametrize("level", "LMQH")
def test_the_mask_chosen_at_once_is_the_one_qrcode_chooses(level: str) -> None:
    """The eight masks are scored as arrays (render/qr.py `_mask_penalties`); the symbol must be
    qrcode's own to the module, for short and long URLs (versions 1 to over 20, with and without
    the version areas), with most of the eight masks chosen somewhere."""
    import random
    import string

    import qrcode

    from speechgen.render.qr import _LEVELS, _matrix, _scored

    rng = random.Random(level)
    letters = string.ascii_letters + string.digits + "/-_.é"
    masks, versions = set(), set()
    for length in [*range(0, 120, 4), 160, 240, 400, 640]:
        for _ in range(4):
            url = BASE + "".join(rng.choice(letters) for _ in range(length))
            assert _matrix(url, level) == qrcode_own_symbol(url, level), url
            code = qrcode.QRCode(error_correction=_LEVELS[level](), border=QUIET_ZONE, box_size=1)
            code.add_data(url.encode("utf-8"), optimize=0)
            code.best_fit()
            masks.add(_scored(code)[0])
            versions.add(code.version)
    assert len(masks) >= 6, masks
    assert min(versions) < 7 and max(versions) >= 12      # version areas from 7 on
