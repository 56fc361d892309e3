"""PDF/UA-1 with PDF/A, PDF/A-3a and -3u claims, and the PDF/A-2 variants' attachments, checked
with pikepdf on what the build writes: the XMP (pdfuaid, dc:language, xmp:MetadataDate), the
structure tree, running heads and page numbers as pagination artifacts, the signature widget
tagged as a Form. PDFBox Preflight (PDF/A-1b) stays in tests/test_pdfa.py."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pikepdf
import pytest

from conftest import copy_project
from speechgen import signing
from speechgen.build import build
from speechgen.config import load_config

pytestmark = pytest.mark.pdf

BOOK = "2025/kenegaraan/kenegaraan.id.pdf"


def _project(dest: Path, variant: str, ua: bool = False) -> Path:
    project = copy_project(dest)
    with (project / "speechgen.toml").open("a") as f:
        f.write(f'\n[pdf]\nvariant = "{variant}"\nua = {"true" if ua else "false"}\n')
    return project


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One build per claim: PDF/A-3u with PDF/UA-1, PDF/A-3a, PDF/A-2b and PDF/A-2u."""
    built = {}
    for name, variant, ua in (("3u+ua", "pdf/a-3u", True), ("3a", "pdf/a-3a", False),
                              ("2b", "pdf/a-2b", False), ("2u", "pdf/a-2u", False)):
        project = _project(tmp_path_factory.mktemp(name.replace("+", "-")) / "project", variant, ua)
        build(load_config(project), pdf=True, jobs=2, card_pdfs=False, search=False)
        built[name] = project / "site"
    return built


def _pdfs(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.pdf") if "kartu" not in p.name)


def test_pdfua_with_pdfa_says_both_with_language_and_metadata_date(books) -> None:
    for path in _pdfs(books["3u+ua"]):
        with pikepdf.open(path) as pdf:
            meta = pdf.open_metadata()
            assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "U"
            assert meta["pdfuaid:part"] == "1"
            lang = str(pdf.Root.Lang)
            assert lang in ("id", "en") and meta["dc:language"] == {lang}
            assert meta["xmp:MetadataDate"] == meta["xmp:ModifyDate"]
            assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
            assert pdf.Root.MarkInfo.Marked is True and "/StructTreeRoot" in pdf.Root


def test_pdfa_3a_is_a_claim_the_config_allows(books) -> None:
    with pikepdf.open(books["3a"] / BOOK) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "A")
        assert "pdfuaid:part" not in meta                        # no PDF/UA unless asked
        assert "/StructTreeRoot" in pdf.Root and len(pdf.attachments) == 1


def test_every_font_maps_its_glyphs_to_unicode(books) -> None:
    """What PDF/A-3u adds to 3b: text that extracts. Every font has a /ToUnicode map, and the
    extracted text is the speech's."""
    import pypdf

    for path in _pdfs(books["3u+ua"]):
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                for _, font in (page.Resources.get("/Font") or {}).items():
                    fonts = [font] + ([font.DescendantFonts[0]] if "/DescendantFonts" in font else [])
                    assert "/ToUnicode" in font, (path.name, fonts[0].get("/BaseFont"))
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(books["3u+ua"] / BOOK).pages)
    assert "Pidato Uji Kenegaraan" in " ".join(text.split())


def _artifacts(page: pikepdf.Page) -> list[int]:
    """How many text-showing operators each /Artifact marked-content sequence holds."""
    found, depth, inside = [], 0, None
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op in ("BDC", "BMC"):
            depth += 1
            if inside is None and operands and str(operands[0]) == "/Artifact" and op == "BDC" \
                    and str(operands[1].get("/Type")) == "/Pagination":
                inside = depth
                found.append(0)
        elif op == "EMC":
            if inside == depth:
                inside = None
            depth -= 1
        elif op in ("Tj", "TJ", "'", '"') and inside is not None:
            found[-1] += 1
    return found


def _reachable(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    seen: set[tuple[int, int]] = set()
    pending = [pdf.Root.StructTreeRoot]
    while pending:
        kids = pending.pop().get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else ([kids] if kids is not None else []):
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR" and kid.get("/Type") != "/MCR":
                if kid.is_indirect and kid.objgen in seen:
                    continue
                if kid.is_indirect:
                    seen.add(kid.objgen)
                pending.append(kid)
    return seen


def test_running_heads_and_page_numbers_are_artifacts(books) -> None:
    with pikepdf.open(books["3u+ua"] / BOOK) as pdf:
        assert len(pdf.pages) >= 3
        assert _artifacts(pdf.pages[0]) == []                  # the cover has neither
        for page in pdf.pages[1:]:
            shown = [n for n in _artifacts(page) if n]
            assert len(shown) == 2, shown                      # the running head, the page number
        # every MCID the parent tree still maps belongs to the structure tree (none left orphaned)
        reachable = _reachable(pdf)
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        for i in range(0, len(nums), 2):
            if isinstance(nums[i + 1], pikepdf.Array):
                for element in nums[i + 1]:
                    assert element is None or element.objgen in reachable


@pytest.mark.parametrize("name", ["2b", "2u"])
def test_pdfa_2_leaves_no_trace_of_an_attachment(books, name: str) -> None:
    for path in _pdfs(books[name]):
        with pikepdf.open(path) as pdf:
            assert "/Names" not in pdf.Root or "/EmbeddedFiles" not in pdf.Root.Names
            assert "/AF" not in pdf.Root
            assert not any(isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/Filespec" for o in pdf.objects)
            assert pdf.open_metadata()["pdfaid:part"] == "2"


def test_the_signature_widget_is_a_tagged_form(books, tmp_path: Path) -> None:
    data = (books["3u+ua"] / BOOK).read_bytes()
    cert, key = signing.new_sample_keys(tmp_path / "keys", "Penerbit Uji", "kata-sandi-uji", 30)
    (tmp_path / "p").mkdir()
    shutil.copy(cert, tmp_path / "p/publisher.pem")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    signer = signing.load_signer(tmp_path / "p", Path("publisher.pem"), key, "kata-sandi-uji", now)
    signed = signing.sign_pdf(data, signer, now)
    assert signed.startswith(data)
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        widget = next(a for a in pdf.pages[0].Annots if a.get("/FT") == "/Sig")
        assert str(widget.TU) == signing.WIDGET_TEXT
        assert pdf.pages[0].Tabs == "/S"
        tree = pdf.Root.StructTreeRoot
        nums = tree.ParentTree.Nums
        mapped = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        form = mapped[int(widget.StructParent)]
        assert form.S == "/Form" and form.K.Type == "/OBJR" and form.K.Obj.objgen == widget.objgen
        assert form.objgen in _reachable(pdf) and str(form.Alt) == signing.WIDGET_TEXT
        assert int(tree.ParentTreeNextKey) == max(mapped) + 1
        assert pdf.open_metadata()["pdfuaid:part"] == "1"      # the metadata stays as rendered
    assert signing.check_pdf_signature(signed, certificate=cert.read_bytes()).ok


def test_ua_books_are_reproducible_to_the_byte(books, tmp_path: Path) -> None:
    project = _project(tmp_path / "again", "pdf/a-3u", ua=True)
    build(load_config(project), pdf=True, jobs=1, card_pdfs=False, search=False)
    for path in _pdfs(books["3u+ua"]):
        assert (project / "site" / path.relative_to(books["3u+ua"])).read_bytes() == path.read_bytes(), path.name
