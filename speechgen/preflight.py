"""Preflight: the config and every file it names, checked before any speech is rendered.

`check_project` reads and compiles the templates and validates the images the config names
([pdf] emblem, [qr] logo: one rule for both). `check_site` checks what follows from the site's
copies: QR codes only on https, a URL a QR code can hold, modules large enough to print. Both add
to one `Problems`, so the user sees every problem at once as `file:line: message`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from speechgen import fonts, signing

from speechgen.config import Config, key_line
from speechgen.errors import Problems
from speechgen.graph import Site
from speechgen.render.cards import CARDS_TEMPLATE, LAYOUTS
from speechgen.render.html import PAGE_TEMPLATES
from speechgen.render.pdf import BOOK_TEMPLATE
from speechgen.render.qr import Logo, QrProblem, load_logo, printed_module_mm, symbol_modules
from speechgen.templates import Templates, check_templates, load_templates

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Bytes a QR code holds at its largest (version 40), by error correction level (ISO/IEC 18004).
CAPACITY = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}


@dataclass(frozen=True)
class Media:
    """The images the config names, validated and re-encoded."""

    emblem: str = ""             # [pdf] emblem as a project-relative path, for the books' cover
    emblem_image: Logo | None = None
    logo: Logo | None = None     # [qr] logo, laid over the codes
    fonts: tuple[Path, ...] = () # [pdf] fonts, checked: real paths under static/
    certificate: bytes = b""     # [signing] certificate, DER: published with the site
    signer: object | None = None # the key from SPEECHGEN_SIGNING_KEY (signing.Signer), if given

    @property
    def card_emblem(self) -> str:
        """The cards' emblem: the QR logo, or else the PDFs' cover emblem."""
        image = self.logo or self.emblem_image
        return image.data_uri() if image is not None else ""


def check_project(config: Config, problems: Problems, *, pdf: bool, cards: bool,
                  compiled: jinja2.BytecodeCache | None = None) -> tuple[Templates, Media]:
    """The templates compiled (`compiled`: the build's memo of compiled templates) and the media
    the config names read and checked."""
    templates = load_templates(config.templates_dir, problems, compiled)
    names = list(PAGE_TEMPLATES)
    if pdf:
        names.append(BOOK_TEMPLATE)
    if config.qr.enabled and cards:
        names.append(CARDS_TEMPLATE)
    check_templates(templates.env, names, problems)
    emblem, emblem_image = _image(config, "pdf", "emblem", config.pdf.emblem, problems)
    _, logo = _image(config, "qr", "logo", config.qr.logo, problems)
    certificate, signer = _signing(config, problems)
    return templates, Media(emblem, emblem_image, logo, _fonts(config, problems), certificate, signer)


def _signing(config: Config, problems: Problems) -> tuple[bytes, object | None]:
    """`[signing] certificate` read and checked, and the key the environment names (checked
    against it: passphrase, match, validity), before anything is rendered."""
    if not config.signing.certificate:
        return b"", None
    import datetime as dt
    import os

    line = key_line(config.path, "signing", "certificate")
    name = Path(config.signing.certificate)
    try:
        certificate = signing.read_certificate(config.root, name)
    except signing.SigningError as exc:
        problems.add(config.path, line, f"[signing] certificate: {exc}")
        return b"", None
    try:
        signer = signing.signer_from_env(config.root, name, os.environ, dt.datetime.now(dt.timezone.utc))
    except signing.SigningError as exc:
        problems.add(signing.KEY_ENV, None, str(exc))
        return certificate, None
    return certificate, signer


def _static_file(config: Config, section: str, key: str, name: str, kind: tuple[str, str], line: int | None,
                 problems: Problems) -> Path | None:
    """The one rule for a media file speechgen.toml names: a path from the project folder, to a
    file under static/ ("static/lambang.png"). Its problem said once: outside static/ (with the
    path meant when static/NAME is there), not found, or not a file."""
    path = (config.root / name.lstrip("/")).resolve()
    static = config.static_dir.resolve()
    said = f"[{section}] {key} {name!r}"
    if not path.is_relative_to(static):
        meant = (static / name.lstrip("/")).resolve()
        hint = (f"; did you mean 'static/{name.lstrip('/')}'? (paths are from the project folder)"
                 if meant.is_relative_to(static) and meant.is_file() else "")
        problems.add(config.path, line, f"{said} must be a {kind[1]} file in static/ (harus berkas {kind[0]} di "
                     f"static/){hint}")
    elif not path.exists():
        problems.add(config.path, line, f"{said}: not found (tidak ditemukan): {path}")
    elif not path.is_file():
        problems.add(config.path, line, f"{said}: not a file (bukan berkas): {path}")
    else:
        return path
    return None


def _fonts(config: Config, problems: Problems) -> tuple[Path, ...]:
    """`[pdf] fonts`: font files under static/ that a font library can read."""
    found = []
    for name in config.pdf.fonts:
        line = key_line(config.path, "pdf", "fonts")
        path = _static_file(config, "pdf", "fonts", name, ("fon", "font"), line, problems)
        if path is None:
            continue
        problem = fonts.font_problem(path)
        if problem:
            problems.add(config.path, line, f"[pdf] fonts {name!r} {problem}")
            continue
        found.append(path)
    return tuple(found)


def check_glyphs(versions: list, recipients: list, media: Media, problems: Problems,
                 recipients_file: Path, have: frozenset[str] | None = None) -> None:
    """Every character a PDF or card will print has a glyph in the bundled or project fonts:
    a character none has is `file:line: character U+0905 ...`, never an empty box. One line per
    file, naming each of its characters once (`fonts.glyphs_problem`). `have`: the fonts'
    characters (`fonts.coverage`), if the caller knows them."""
    for version in versions:
        found = fonts.missing_glyphs(version.source_text, media.fonts, have)
        if found:
            problems.add(version.source, *fonts.glyphs_problem(found))
    lines = [(r.line or 1, " ".join((r.name, r.short_name, r.group, r.address))) for r in recipients]
    found = fonts.missing_glyphs(lines, media.fonts, have)
    if found:
        problems.add(recipients_file, *fonts.glyphs_problem(found))


def _image(config: Config, section: str, key: str, name: str,
           problems: Problems) -> tuple[str, Logo | None]:
    """A PNG or JPEG under static/, opened with the logo's limits and re-encoded."""
    if not name:
        return "", None
    line = key_line(config.path, section, key)
    path = _static_file(config, section, key, name, ("PNG atau JPEG", "PNG or JPEG"), line, problems)
    if path is None:
        pass
    elif path.suffix.lower() not in IMAGE_SUFFIXES:
        problems.add(config.path, line, f"[{section}] {key} {name!r} must be a .png, .jpg or .jpeg file")
    else:
        try:
            image = load_logo(path)
        except QrProblem as exc:
            problems.add(config.path, line, f"[{section}] {key} {exc}")
        else:
            return path.relative_to(config.root.resolve()).as_posix(), image
    return "", None


def check_site(site: Site, media: Media, problems: Problems, *, preview: bool = False) -> None:
    """What the copies need: https, URLs a code can hold, modules that print large enough."""
    config = site.config
    if not config.qr.enabled or not site.copies:
        return
    base_url = config.site.base_url
    base_line = key_line(config.path, "site", "base_url")
    if not preview and urlsplit(base_url).scheme != "https":
        # Printed codes cannot be corrected later: they must point at https, never plain http.
        problems.add(config.path, base_line,
                     f"[site] base_url {base_url!r} must start with https:// to print QR codes "
                     "(kode QR hanya untuk alamat https://); or set [qr] enabled = false")
    level = "H" if media.logo is not None else config.qr.error_correction
    longest = max((site.url(site.copy_dest(c)) for c in site.copies), key=lambda u: len(u.encode()))
    if len(longest.encode()) > CAPACITY[level]:
        problems.add(config.path, base_line,
                     f"[site] base_url makes copy URLs of {len(longest.encode())} bytes, and a QR code at "
                     f"error correction {level} holds at most {CAPACITY[level]}; use a shorter base_url "
                     "(URL terlalu panjang untuk kode QR)")
        return
    layout = LAYOUTS[config.qr.card_size]
    modules = symbol_modules(longest, level)
    module_mm = printed_module_mm(layout.qr_mm, modules)
    if module_mm < config.qr.module_min_mm:
        problems.add(config.path, key_line(config.path, "qr", "card_size") or key_line(config.path, "qr", None),
                     f"[qr] card_size {layout.name} prints the QR code of {longest} with modules of "
                     f"{module_mm:.2f} mm, under module_min_mm = {config.qr.module_min_mm} "
                     f"({modules} modules in {modules * module_mm:.1f} mm); use a larger card_size or a "
                     "shorter base_url (modul QR terlalu kecil untuk dicetak)")
