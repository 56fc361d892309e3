"""Archival conformance (issue 14): a real validator, the PDF/A rules it cannot check, bundled
fonts only, and book typography.

PDFBox Preflight (Debian's libpdfbox2-java, installed by `.ci/setup --test`) validates PDF/A-1b
only, so the same sources are built a second time as `[pdf] variant = "pdf/a-1b"` for it; the
PDF/A-3b rules it cannot check (no interpolation, every glyph in an embedded font, pdfaid in the
XMP, the OutputIntent, the source's AFRelationship) are checked here on both builds.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from xml.dom import minidom

import pikepdf
import pypdf
import pytest
from fontTools.ttLib import TTFont

from conftest import copy_project
from speechgen.build import build
from speechgen.config import load_config
from speechgen.errors import SourceError
from speechgen.render import pdf as pdf_module

pytestmark = pytest.mark.pdf

ROOT = Path(__file__).resolve().parent.parent
JAVA = Path("/usr/share/java")
PREFLIGHT_JARS = ("preflight.jar", "pdfbox2.jar", "fontbox2.jar", "xmpbox.jar", "commons-logging.jar",
                  "javax.activation.jar", "jaxb-api.jar")

# What real speeches use beyond Latin: the characters issue 14 found borrowed from the machine.
WORLD = textwrap.dedent("""\

    ## Angka dan aksara

    Inflasi turun −0,2 persen; target ≤ 3 % dan ≥ 1 %, arah → naik, ← turun, ↑ ↓ ⇒ ≠ ≈ ± × ÷ ∞ √.
    Tanda ✓ ✔ ✗ ★ ● ■ □ ◆ • … “ ” € £ ₹ № © ® ™ ½ ¾ ⅓ ‰ ° ′ ″.
    Yunani: Ελληνική Δημοκρατία, αβγδε. Kirilik: Российская Федерация, Україна, Беларусь, ђ љ њ.
    Latin: Đà Nẵng, Zürich, Kraków, Ærøskøbing, İstanbul, Şanlıurfa, ǅ ǈ ȘȚ.

    Seorang guru menulis: "Murid-murid kami kini membaca buku yang sama," katanya pada hari Jum'at.
    Pertanggungjawaban penyelenggaraan pemerintahan memperkenalkan keberlangsungan kesejahteraan
    masyarakat, ketidakseimbangan perekonomian, dan pertanggungjawaban keuangan negara kepada
    seluruh rakyat; kemerdekaan, persatuan, kedaulatan, keadilan sosial dan kesejahteraan umum
    diselenggarakan berdasarkan Undang-Undang Dasar, dengan transparansi, akuntabilitas dan
    produktivitas yang dipertanggungjawabkan kepada masyarakat di seluruh kepulauan Nusantara.
    Pemberdayaan masyarakat perdesaan, pengembangan infrastruktur berkelanjutan, diversifikasi
    perekonomian daerah dan digitalisasi pelayanan publik merupakan prioritas pemerintahan.
    """)


def world_project(dest: Path, variant: str) -> Path:
    project = copy_project(dest)
    with (project / "speechgen.toml").open("a") as f:
        f.write(f'\n[pdf]\nemblem = "static/lambang.png"\nvariant = "{variant}"\n')
    speech = project / "speeches/2025/kenegaraan.id.md"
    speech.write_text(speech.read_text() + WORLD)
    return project


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture project with Greek, Cyrillic and symbols, built as PDF/A-3b and as PDF/A-1b,
    and the repository's sample project (README) as PDF/A-1b."""
    built = {}
    for variant in ("pdf/a-3b", "pdf/a-1b"):
        project = world_project(tmp_path_factory.mktemp(variant.replace("/", "-")) / "project", variant)
        build(load_config(project), pdf=True, jobs=2, card_pdfs=False)
        built[variant] = project / "site"
    sample = tmp_path_factory.mktemp("sample") / "project"
    for name in ("speeches", "static", "templates"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, sample / name)
    shutil.copy(ROOT / "recipients.yaml", sample / "recipients.yaml")
    if (ROOT / "publisher.pem").is_file():           # made by .ci/sample-keys, named by [signing]
        shutil.copy(ROOT / "publisher.pem", sample / "publisher.pem")
    # Without its ledger a source's correction has no edition to correct: render the text as is.
    for source in (sample / "speeches").rglob("*.md"):
        text = source.read_text("utf-8")
        source.write_text(re.sub(r"(?m)^corrections:\n(?:  .*\n)+", "", text), "utf-8")
    config = (ROOT / "speechgen.toml").read_text()
    (sample / "speechgen.toml").write_text(re.sub(r'(?m)^variant = .*$', 'variant = "pdf/a-1b"', config))
    assert 'variant = "pdf/a-1b"' in (sample / "speechgen.toml").read_text()
    build(load_config(sample), pdf=True, jobs=2, card_pdfs=False)
    built["sample"] = sample / "site"
    return built


def pdfs(site: Path) -> list[Path]:
    found = sorted(site.rglob("*.pdf"))
    assert len(found) == 3
    return found


# --- the validator ------------------------------------------------------------------------------

@pytest.mark.parametrize("build_name", ["pdf/a-1b", "sample"])
def test_pdfbox_preflight_accepts_the_pdfa_1b_build(books, build_name: str) -> None:
    missing = [jar for jar in PREFLIGHT_JARS if not (JAVA / jar).exists()]
    assert shutil.which("java") and not missing, \
        f"PDFBox Preflight is not installed (bash .ci/setup --test installs it): {missing}"
    classpath = ":".join(str(JAVA / jar) for jar in PREFLIGHT_JARS)
    found = sorted(books[build_name].rglob("*.pdf"))
    found = [path for path in found if path.name != "kartu-qr.pdf"]
    assert len(found) >= 3
    for path in found:
        result = subprocess.run(["java", "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b", str(path)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and f"The file {path.name} is a valid PDF/A-1b file" in result.stdout, \
            result.stdout + result.stderr


# --- PDF/A rules checked here ---------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["pdf/a-3b", "pdf/a-1b"])
def test_no_image_is_interpolated(books, variant: str) -> None:
    for path in pdfs(books[variant]):
        with pikepdf.open(path) as pdf:
            images = [obj for obj in pdf.objects
                      if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]
            assert images, "the emblem should be an image"
            assert all(obj.get("/Interpolate", False) is not True for obj in images), path
        assert b"/Interpolate true" not in path.read_bytes()


def test_interpolation_is_removed_even_when_a_project_stylesheet_asks_for_it(tmp_path: Path) -> None:
    project = world_project(tmp_path / "project", "pdf/a-3b")
    (project / "templates").mkdir()
    (project / "templates/print.css").write_text("img, html { image-rendering: auto; }\n")
    build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    data = (project / "site/2025/kenegaraan/kenegaraan.id.pdf").read_bytes()
    assert b"/Interpolate false" in data and b"/Interpolate true" not in data


def _glyphs_used(pdf: pikepdf.Pdf) -> dict[str, set[int]]:
    """Every glyph id drawn, by font (its BaseFont), over the pages and the forms they draw."""
    used: dict[str, set[int]] = {}

    def walk(container, resources) -> None:
        fonts = resources.get("/Font", {}) if resources is not None else {}
        forms = resources.get("/XObject", {}) if resources is not None else {}
        font = None
        for operands, operator in pikepdf.parse_content_stream(container):
            op = str(operator)
            if op == "Tf":
                font = fonts[str(operands[0])]
            elif op in ("Tj", "'", '"', "TJ"):
                strings = operands[0] if op == "TJ" else [operands[-1]]
                codes = b"".join(bytes(s) for s in strings if isinstance(s, pikepdf.String))
                assert font is not None and str(font.Subtype) == "/Type0", font
                cid_font = font.DescendantFonts[0]
                mapping = cid_font.get("/CIDToGIDMap", pikepdf.Name.Identity)
                table = None if isinstance(mapping, pikepdf.Name) else mapping.read_bytes()
                for i in range(0, len(codes), 2):
                    cid = int.from_bytes(codes[i:i + 2], "big")
                    gid = cid if table is None else int.from_bytes(table[2 * cid:2 * cid + 2], "big")
                    used.setdefault(str(font.BaseFont), set()).add(gid)
            elif op == "Do":
                form = forms[str(operands[0])]
                if form.get("/Subtype") == "/Form":
                    walk(form, form.get("/Resources", resources))

    for page in pdf.pages:
        walk(page, page.get("/Resources"))
    return used


@pytest.mark.parametrize("variant", ["pdf/a-3b", "pdf/a-1b"])
def test_every_glyph_drawn_is_in_an_embedded_font(books, variant: str) -> None:
    """PDF/A 6.2.11.4.1: no glyph may point past the end of its embedded font (WeasyPrint draws
    a character no font has as such a glyph), and none is .notdef."""
    for path in pdfs(books[variant]):
        with pikepdf.open(path) as pdf:
            used = _glyphs_used(pdf)
            fonts = {str(f.BaseFont): f for page in pdf.pages for f in page.Resources.Font.values()}
            assert used and set(used) <= set(fonts)
            for name, gids in used.items():
                descriptor = fonts[name].DescendantFonts[0].FontDescriptor
                assert "/FontFile2" in descriptor, name          # embedded TrueType
                with TTFont(io.BytesIO(descriptor.FontFile2.read_bytes())) as font:
                    count = font["maxp"].numGlyphs
                assert 0 not in gids, f"{path.name}: .notdef drawn with {name}"
                assert max(gids) < count, f"{path.name}: {name} draws glyph {max(gids)} of {count}"
                assert name[7] == "+" and name[8:].startswith(("Speechgen-Serif", "Speechgen-Symbols")), name


def test_greek_cyrillic_and_symbols_come_from_the_bundled_fonts(books) -> None:
    path = books["pdf/a-3b"] / "2025/kenegaraan/kenegaraan.id.pdf"
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for word in ("Ελληνική", "Российская", "Україна", "−0,2", "≤ 3", "≥ 1", "→", "✓", "Đà Nẵng"):
        assert word in text, word
    listed = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+", 1)[1] for line in listed.splitlines()[2:]}
    assert names == {"Speechgen-Serif", "Speechgen-Serif-Bold", "Speechgen-Serif-Italic", "Speechgen-Symbols"}, names


def _descriptions(xmp: bytes) -> list[minidom.Element]:
    document = minidom.parseString(xmp[xmp.index(b"<x:xmpmeta"):xmp.index(b"</x:xmpmeta>") + 12])
    return document.getElementsByTagName("rdf:Description")


@pytest.mark.parametrize("variant, part", [("pdf/a-3b", "3"), ("pdf/a-1b", "1")])
def test_xmp_has_pdfaid_and_each_description_declares_its_namespaces(books, variant: str, part: str) -> None:
    for path in pdfs(books[variant]):
        with pikepdf.open(path) as pdf:
            xmp = pdf.Root.Metadata.read_bytes()
            assert pdf.open_metadata()["pdfaid:part"] == part
            assert pdf.open_metadata()["pdfaid:conformance"] == "B"
        descriptions = _descriptions(xmp)
        assert len(descriptions) >= 5
        for description in descriptions:
            prefixes = {name.split(":")[0] for name in description.attributes.keys()
                        if ":" in name and not name.startswith("xmlns")}
            nodes = [description]
            while nodes:
                node = nodes.pop()
                for child in node.childNodes:
                    if child.nodeType == child.ELEMENT_NODE:
                        prefixes.add(child.tagName.split(":")[0])
                        prefixes.update(n.split(":")[0] for n in child.attributes.keys() if ":" in n)
                        nodes.append(child)
            prefixes -= {"rdf", "xml"}
            assert prefixes, description.toxml()
            for prefix in prefixes:
                assert description.hasAttribute(f"xmlns:{prefix}"), (prefix, description.toxml())
        pdfaid = [d for d in descriptions if d.hasAttribute("pdfaid:part")]
        assert len(pdfaid) == 1 and pdfaid[0].getAttribute("xmlns:pdfaid") == "http://www.aiim.org/pdfa/ns/id/"


@pytest.mark.parametrize("variant", ["pdf/a-3b", "pdf/a-1b"])
def test_one_srgb_output_intent(books, variant: str) -> None:
    for path in pdfs(books[variant]):
        with pikepdf.open(path) as pdf:
            intents = list(pdf.Root.OutputIntents)
            assert len(intents) == 1
            intent = intents[0]
            assert intent.S == "/GTS_PDFA1" and intent.Type == "/OutputIntent"
            assert "sRGB" in str(intent.OutputConditionIdentifier)
            profile = intent.DestOutputProfile
            assert profile.N == 3 and profile.read_bytes()[36:40] == b"acsp"      # an ICC profile


def test_the_source_is_associated_once_with_relationship_source(books) -> None:
    for path in pdfs(books["pdf/a-3b"]):
        with pikepdf.open(path) as pdf:
            associated = list(pdf.Root.AF)
            assert len(associated) == 1
            spec = associated[0]
            name = path.name.replace(".pdf", ".md")
            assert spec.Type == "/Filespec" and spec.AFRelationship == "/Source"
            assert str(spec.F) == name and str(spec.UF) == name
            embedded = spec.EF.F
            assert embedded.Type == "/EmbeddedFile" and str(embedded.Subtype) == "/text/markdown"
            assert str(embedded.Params.ModDate).startswith("D:20")
            assert list(pdf.attachments) == [name]
    # PDF/A-1 allows no embedded file at all
    for path in pdfs(books["pdf/a-1b"]):
        with pikepdf.open(path) as pdf:
            assert not list(pdf.attachments) and "/AF" not in pdf.Root


def test_a_transparent_image_is_flattened_for_pdfa_1b(tmp_path: Path) -> None:
    from PIL import Image

    project = world_project(tmp_path / "project", "pdf/a-1b")
    image = Image.new("RGBA", (40, 40), (160, 20, 20, 0))
    image.paste((160, 20, 20, 255), (10, 10, 30, 30))
    image.save(project / "static/lambang.png")
    build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    with pikepdf.open(project / "site/2025/kenegaraan/kenegaraan.id.pdf") as pdf:
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert images and not any("/SMask" in o for o in images)


# --- fonts: bundled only --------------------------------------------------------------------------

def test_the_same_bytes_on_a_machine_with_no_system_fonts(books, tmp_path: Path) -> None:
    """A build in a process whose fontconfig has no fonts at all (FONTCONFIG_FILE pointing at an
    empty config) gives the bytes of the build on this machine, which has DejaVu and more."""
    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                     "<fontconfig></fontconfig>\n")
    listed = subprocess.run(["fc-list"], capture_output=True, text=True, env={**os.environ, "FONTCONFIG_FILE": str(empty)})
    assert listed.stdout.strip() == "", "the empty configuration still lists fonts"
    project = world_project(tmp_path / "bare", "pdf/a-3b")
    script = ("import sys; from pathlib import Path; from speechgen.build import build; "
              "from speechgen.config import load_config; "
              "build(load_config(Path(sys.argv[1])), pdf=True, jobs=2, card_pdfs=False)")
    env = {**os.environ, "FONTCONFIG_FILE": str(empty), "PYTHONPATH": str(ROOT),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state")}
    result = subprocess.run([sys.executable, "-c", script, str(project)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    here = {p.relative_to(books["pdf/a-3b"]): p.read_bytes() for p in pdfs(books["pdf/a-3b"])}
    bare = {p.relative_to(project / "site"): p.read_bytes() for p in pdfs(project / "site")}
    assert here == bare


def test_a_build_leaves_nothing_in_the_temporary_directory(tmp_path: Path) -> None:
    """WeasyPrint copies the @font-face files of every render into a folder of its own in the
    temporary directory, and removes it only when its font configuration is garbage collected,
    which a pool worker never reaches: each cold build left folders of 1.3 MB behind (thousands
    on a machine that builds often). A cold build through the command line, books and card sheets
    rendered by two workers, leaves the temporary directory as it found it."""
    project = copy_project(tmp_path / "project")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state")}
    result = subprocess.run([sys.executable, "-m", "speechgen", "build", str(project), "-j", "2", "-q"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    made = list((project / "site").rglob("*.pdf"))
    assert any(".id.pdf" in p.name for p in made) and any("kartu" in p.name for p in made), made
    assert sorted(p.name for p in scratch.iterdir()) == []


def test_a_render_sees_no_font_of_the_machine(tmp_path: Path) -> None:
    """The fontconfig of every render has no fonts but the ones @font-face loads: a character
    only a system font has (box drawing, in DejaVu here) is not borrowed; it fails the render."""
    from weasyprint.text.ffi import fontconfig

    assert Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists(), "the test needs a system font"
    config = pdf_module._bundled_fonts_only()()
    assert fontconfig.FcConfigGetFonts(config._config, fontconfig.FcSetSystem).nfont == 0
    sheets = [(pdf_module._theme_stylesheet(), pdf_module.THEME_URL)]
    allowed = (str(pdf_module.THEME_DIR.resolve()),)
    mounts = ((pdf_module.THEME_URL, str(pdf_module.THEME_DIR.resolve())),)

    def render(text: str) -> bytes:
        return pdf_module._render(f'<html lang="id"><p>{text}</p></html>', pdf_module.THEME_URL, sheets,
                                  allowed, mounts, 60, lambda document, *_: document.write_pdf())[0]

    data = render("Garis ≤ → α Ж")
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True).stdout.decode()
    assert "DejaVu" not in fonts and "Speechgen-Symbols" in fonts
    with pytest.raises(pdf_module.ResourceRefused) as refused:
        render("Garis ─ dan ▀")
    assert str(refused.value) == ("character U+2500 '─' has no glyph in the bundled fonts; add a font in [pdf] fonts; "
                                  "character U+2580 '▀' has no glyph in the bundled fonts; add a font in [pdf] fonts")


PROBES = "aα Ж→−✓\u00ad\u200d\ufe0f\u061c\U000e0001\u180e\u2029\ufff9\x85\x01अ中😀"


def test_the_glyph_check_agrees_with_what_weasyprint_draws() -> None:
    """speechgen.fonts (what preflight will use, with lines) says a character is missing exactly
    when a render of it draws a .notdef box."""
    from speechgen import fonts

    sheets = [(pdf_module._theme_stylesheet(), pdf_module.THEME_URL)]
    allowed = (str(pdf_module.THEME_DIR.resolve()),)
    mounts = ((pdf_module.THEME_URL, str(pdf_module.THEME_DIR.resolve())),)
    drawn_as_box = set()
    for char in PROBES:
        try:
            pdf_module._render(f'<html lang="id"><p>x{char}x</p></html>', pdf_module.THEME_URL, sheets,
                               allowed, mounts, 60, lambda document, *_: document.write_pdf())
        except pdf_module.ResourceRefused as refused:
            assert str(refused) == fonts.glyph_problem(char)
            drawn_as_box.add(char)
    assert drawn_as_box == {char for _, char in fonts.missing_glyphs(PROBES)} == set("\ufff9\x85\x01अ中😀")


def test_a_character_no_font_has_stops_the_build(tmp_path: Path) -> None:
    project = world_project(tmp_path / "project", "pdf/a-3b")
    speech = project / "speeches/2025/kenegaraan.id.md"
    speech.write_text(speech.read_text() + "\nNama dalam aksara Dewanagari: अशोक, dan 中文.\n")
    with pytest.raises(SourceError) as error:
        build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    # found in preflight, before any PDF is rendered, with the line it is on
    line = len(speech.read_text().splitlines())
    lines = error.value.lines()
    # one line for the file, naming each of its characters
    assert f"speeches/2025/kenegaraan.id.md:{line}: 6 characters have no glyph in the bundled fonts: " \
        "U+0905 'अ', U+0936 'श', U+094B 'ो', U+0915 'क', U+4E2D '中', U+6587 '文'; add a font in [pdf] fonts" in lines
    assert len([item for item in lines if "kenegaraan.id.md" in item]) == 1 and not (project / "site").exists()


def _font_with(path: Path, chars: str, family: str) -> Path:
    """A tiny TrueType font whose only glyphs are squares for `chars`."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def square(size: int):
        pen = TTGlyphPen(None)
        pen.moveTo((50, 0)); pen.lineTo((50, size)); pen.lineTo((550, size)); pen.lineTo((550, 0))
        pen.closePath()
        return pen.glyph()

    names = [".notdef"] + [f"uni{ord(c):04X}" for c in chars]     # (a real font has a space too)
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in chars})
    builder.setupGlyf({name: square(700) for name in names})
    builder.setupHorizontalMetrics({name: (600, 50) for name in names})
    builder.setupHorizontalHeader(ascent=900, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=900, sTypoDescender=-200, usWinAscent=900, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return path


def test_a_project_font_draws_what_the_bundled_fonts_lack(tmp_path: Path) -> None:
    """`[pdf] fonts` (the config key is read with getattr until config.py has it): each file gets an
    @font-face rule under its own family, after the bundled families in the book's stack."""
    project = tmp_path / "project"
    (project / "static/fonts").mkdir(parents=True)
    _font_with(project / "static/fonts/deva.ttf", " अशोक", 'Uji "Deva"')
    site = SimpleNamespace(config=SimpleNamespace(pdf=SimpleNamespace(fonts=("static/fonts/deva.ttf",)),
                                                  root=project, path=project / "speechgen.toml"))
    sheet = pdf_module.project_font_stylesheet(site)
    assert 'font-family: "Uji \\22 Deva\\22 "' in sheet
    assert 'html { font-family: "Speechgen Serif", "Speechgen Arabic", "Speechgen Symbols", "Uji \\22 Deva\\22 "; }' in sheet
    sheets = [(pdf_module._theme_stylesheet(), pdf_module.THEME_URL), (sheet, pdf_module.PROJECT_URL)]
    allowed = (str(pdf_module.THEME_DIR.resolve()), str(project / "static"))
    mounts = ((pdf_module.PROJECT_URL, str(project)), (pdf_module.THEME_URL, str(pdf_module.THEME_DIR.resolve())))
    data, _, read = pdf_module._render('<html lang="hi"><p>Raja अशोक → 3</p></html>', pdf_module.PROJECT_URL,
                                       sheets, allowed, mounts, 60, lambda document, *_: document.write_pdf())
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True).stdout.decode()
    assert "Uji" in fonts and "Speechgen-Serif" in fonts and "Speechgen-Symbols" in fonts
    assert str(project / "static/fonts/deva.ttf") in {path for path, _ in read}     # a dependency of the book
    (project / "static/fonts/deva.ttf").write_bytes(b"not a font")
    with pytest.raises(SourceError, match=r"speechgen.toml: \[pdf\] fonts 'static/fonts/deva.ttf' is not a TrueType"):
        pdf_module.project_font_stylesheet(site)


# --- book typography --------------------------------------------------------------------------------

def _body_lines(path: Path) -> list[str]:
    """The lines of the justified paragraph of WORLD, as pdftotext lays them out."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    start = text.index("Seorang guru")
    lines = [line.strip() for line in text[start:].splitlines()]
    return lines[:lines.index("")] if "" in lines else lines


def test_a_measure_of_60_to_75_characters_and_hyphenation_by_language(books) -> None:
    path = books["pdf/a-3b"] / "2025/kenegaraan/kenegaraan.id.pdf"
    lines = _body_lines(path)
    assert len(lines) >= 8
    # Pyphen's Indonesian patterns break long words at line ends ("pertanggung-/jawaban")
    # (WeasyPrint's hyphen is U+2010, the typographic hyphen)
    broken = [(a, b) for a, b in zip(lines, lines[1:]) if re.search(r"[a-z]\u2010$", a) and b[:1].islower()]
    assert broken, lines
    source = WORLD.replace("\n", " ")
    assert all(f"{a.split()[-1][:-1]}{b.split()[0]}".rstrip(",;.") in source for a, b in broken), broken
    full = [len(line) for line in lines[:-1]]              # the last line of a paragraph is short
    assert 60 <= statistics.median(full) <= 75, lines
    assert all(52 <= n <= 82 for n in full), lines


def test_quotation_marks_and_apostrophes_are_typeset(books) -> None:
    path = books["pdf/a-3b"] / "2025/kenegaraan/kenegaraan.id.pdf"
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages)
    assert "“Murid-murid kami kini membaca buku yang sama,” katanya" in text
    assert "Jum’at" in text and '"' not in text.split("Seorang guru")[1][:200]


@pytest.mark.parametrize("lang, html, expected", [
    ("id", '<p>Ia berkata: &quot;Ya.&quot; Jum\'at \'kecil\' <code>x = "a"</code> (&quot;b&quot;)</p>',
     '<p>Ia berkata: “Ya.” Jum’at ‘kecil’ <code>x = "a"</code> (“b”)</p>'),
    ("en", "<p><em>&quot;Yes&quot;</em>, the students' <a href=\"a'b\">books</a></p>",
     "<p><em>“Yes”</em>, the students’ <a href=\"a'b\">books</a></p>"),
    ("de", "<p>&quot;Ja &#39;so&#39;&quot; &amp; &lt;b&gt;</p>", "<p>„Ja ‚so‘“ &amp; &lt;b&gt;</p>"),
    ("fr-CA", "<p>&quot;Oui&quot;</p>", "<p>«\u202fOui\u202f»</p>"),
    ("id", "<pre><code>print('x')\n</code></pre><p>'a'</p>", "<pre><code>print('x')\n</code></pre><p>‘a’</p>"),
])
def test_typeset_quotes(lang: str, html: str, expected: str) -> None:
    assert pdf_module.typeset_quotes(html, lang) == expected


def test_page_geometry_gives_the_same_measure_on_every_page_size() -> None:
    sizes = {"A4": 210, "Letter": 215.9, "B5": 176, "A5": 148}
    for size, width in sizes.items():
        points, _, sides, _ = pdf_module.PAGE_GEOMETRY[size]
        measure_mm = width - 2 * sides
        characters = measure_mm / (0.51 * points * 25.4 / 72)     # Noto Serif: 0.51 em a character
        assert 62 <= characters <= 70, (size, characters)


def test_card_sheets_use_the_bundled_fonts_only(tmp_path: Path) -> None:
    """The card sheets name only their serif; symbols in a title come from the bundled symbols
    face, never from the machine, and a character no bundled font has fails the sheet."""
    theme = pdf_module.THEME_DIR
    face = (theme / "fonts/NotoSerif-Regular.ttf").as_uri()
    page = ("<html><style>@font-face {{ font-family: 'Card Serif'; src: url('{}') }} "
            "body {{ font-family: 'Card Serif', serif }}</style><p>{}</p></html>")
    data = pdf_module.render_card_sheet(page.format(face, "Anggaran → naik ≤ 5 %, Ж α"), (str(theme),),
                                        tmp_path.as_uri() + "/", 30)
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True).stdout.decode()
    assert "Card-Serif" in fonts and "Speechgen-Symbols" in fonts and "DejaVu" not in fonts
    with pytest.raises(pdf_module.ResourceRefused, match=r"character U\+2500 '─' has no glyph"):
        pdf_module.render_card_sheet(page.format(face, "garis ─"), (str(theme),), tmp_path.as_uri() + "/", 30)
