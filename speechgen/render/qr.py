"""QR codes for recipients' copies: a PNG at 300 dpi for the printed size, and an SVG.

The only module that imports qrcode; the mask is scored with numpy (`_matrix`). Codes are drawn
from the module matrix with Pillow (PNG) and as one SVG path, so both are exact: whole pixels per
module, a 4-module quiet zone, no smoothing.
A logo, when configured, is validated (PNG or JPEG only, pixel-capped), re-encoded, and laid over
the centre of the code; the code then uses error correction H.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

DPI = 300
QUIET_ZONE = 4                   # modules of white around the code (ISO/IEC 18004 minimum)
LOGO_SHARE = 0.15                # logo area / code area; at 20% some codes no longer decode
LOGO_MAX_PIXELS = 4096 * 4096    # a logo larger than this is refused before it is decoded
LOGO_FORMATS = ["PNG", "JPEG"]
MM_PER_INCH = 25.4


class QrProblem(ValueError):
    """A QR code cannot be made as configured; the caller names the config line."""


@dataclass(frozen=True)
class Logo:
    """A validated logo, re-encoded: the only logo bytes that ever reach the output."""

    image: object                # PIL.Image.Image, RGBA
    png: bytes                   # the same, re-encoded as PNG (for the SVG and the card's emblem)

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class QrCode:
    url: str
    png: bytes
    svg: bytes
    modules: int                 # symbol width in modules, quiet zone included
    module_mm: float             # printed size of one module
    size_mm: float               # printed size of the whole PNG, quiet zone included
    error_correction: str
    module_png: bytes = b""      # one pixel per module, without the logo
    plate: tuple[int, int] | None = None   # the logo's white plate: (offset, side) in modules

    def png_data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def module_data_uri(self) -> str:
        """The bare modules, one pixel each, for a PDF to scale without smoothing (crisp at any dpi)."""
        return "data:image/png;base64," + base64.b64encode(self.module_png).decode("ascii")



def load_logo(path: Path) -> Logo:
    """Open a user's logo as PNG or JPEG only, refusing huge images before decoding them."""
    from PIL import Image, UnidentifiedImageError

    try:
        with path.open("rb") as f, Image.open(f, formats=LOGO_FORMATS) as im:
            width, height = im.size
            if width * height > LOGO_MAX_PIXELS:
                raise QrProblem(f"{path.name} is {width}x{height} pixels; the limit is "
                                f"{LOGO_MAX_PIXELS:,} pixels (e.g. 4096x4096)")
            im.load()
            image = im.convert("RGBA")
    except UnidentifiedImageError:
        raise QrProblem(f"{path.name} is not a PNG or JPEG image") from None
    except (OSError, Image.DecompressionBombError) as exc:
        raise QrProblem(f"{path.name} cannot be read: {exc}") from None
    image.thumbnail((512, 512))              # plenty for 300 dpi at the logo's printed size
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return Logo(image, buffer.getvalue())


class QrMaker:
    """Makes QR codes for one recipe (printed size, error correction, logo). `make_all` spreads the
    codes over worker processes when there are many: a code costs about 3 ms of pure Python (the
    Reed-Solomon bytes, placing the data, the PNG). The build keeps finished codes by `recipe` and URL."""

    def __init__(self, size_mm: float, error_correction: str = "M", logo: Logo | None = None):
        self.size_mm = size_mm
        self.logo = logo
        self.error_correction = "H" if logo is not None else error_correction

    @property
    def recipe(self) -> str:
        """Everything but the URL that shapes a code, as text for a cache key."""
        logo = hashlib.sha256(self.logo.png).hexdigest() if self.logo else ""
        return f"{FORMAT}|{_qrcode_version()}|{self.size_mm!r}|{self.error_correction}|{logo}"

    def make(self, url: str) -> QrCode:
        return self.make_all([url])[url]

    def make_all(self, urls: list[str], jobs: int | None = None) -> dict[str, QrCode]:
        todo = list(dict.fromkeys(urls))
        recipe = (self.size_mm, self.error_correction, self.logo.png if self.logo else None)
        workers = min(jobs or os.cpu_count() or 1, len(todo) // POOL_MIN_CODES)
        if workers > 1:
            import concurrent.futures
            import multiprocessing

            # spawn: a clean interpreter per worker, safe even when the caller has threads (serve)
            with concurrent.futures.ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                made = list(pool.map(_draw_job, [(recipe, url) for url in todo], chunksize=32))
        else:
            made = [_draw(self.size_mm, self.error_correction, self.logo, url) for url in todo]
        return dict(zip(todo, made))


def printed_module_mm(size_mm: float, modules: int) -> float:
    """Whole pixels per module at 300 dpi, as close to the wanted printed size as possible."""
    box = max(1, round(size_mm / MM_PER_INCH * DPI / modules))
    return box * MM_PER_INCH / DPI


def symbol_modules(url: str, error_correction: str) -> int:
    """Width in modules, quiet zone included, of the code that holds `url`: what its printed
    module size follows from, known without drawing it (no mask is chosen)."""
    import qrcode

    code = qrcode.QRCode(error_correction=_LEVELS[error_correction](), border=QUIET_ZONE, box_size=1)
    code.add_data(url.encode("utf-8"), optimize=0)
    return 17 + 4 * code.best_fit() + 2 * QUIET_ZONE


FORMAT = "qr 1"                  # bump when the drawing changes, so stored codes are redrawn
POOL_MIN_CODES = 100             # fewer codes than this per worker are quicker drawn here


def _draw_job(job: tuple[tuple[float, str, bytes | None], str]) -> QrCode:
    (size_mm, error_correction, logo_png), url = job
    logo = _logo_from_png(logo_png) if logo_png else None
    return _draw(size_mm, error_correction, logo, url)


@functools.lru_cache(maxsize=4)
def _logo_from_png(data: bytes) -> Logo:
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
        return Logo(im.convert("RGBA"), data)


def _draw(size_mm: float, error_correction: str, logo: Logo | None, url: str) -> QrCode:
    matrix = _matrix(url, error_correction)
    n = len(matrix)
    module_mm = printed_module_mm(size_mm, n)
    box = round(module_mm / MM_PER_INCH * DPI)
    return QrCode(url, _png(matrix, box, logo), _svg(matrix, url, logo, n * module_mm), n, module_mm,
                  n * module_mm, error_correction, module_png=_png(matrix, 1, None, dpi=False),
                  plate=_logo_box(n) if logo is not None else None)


def pack(code: QrCode) -> bytes:
    head = json.dumps({"modules": code.modules, "module_mm": code.module_mm, "ecc": code.error_correction,
                       "plate": code.plate, "sizes": [len(code.png), len(code.svg), len(code.module_png)]})
    return head.encode("utf-8") + b"\n" + code.png + code.svg + code.module_png


def unpack(url: str, raw: bytes) -> QrCode:
    """A stored code; raises ValueError (or KeyError, TypeError) for an entry of another layout."""
    head, _, body = raw.partition(b"\n")
    meta = json.loads(head)
    a, b, c = meta["sizes"]
    if len(body) != a + b + c:
        raise ValueError("truncated")
    n, module_mm = meta["modules"], meta["module_mm"]
    plate = tuple(meta["plate"]) if meta["plate"] else None
    return QrCode(url, body[:a], body[a:a + b], n, module_mm, n * module_mm, meta["ecc"],
                  module_png=body[a + b:], plate=plate)


@functools.cache
def _qrcode_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qrcode")
    except PackageNotFoundError:
        return "unknown"


def _level(name: str):
    def level() -> int:
        import qrcode.constants
        return getattr(qrcode.constants, f"ERROR_CORRECT_{name}")
    return level


_LEVELS = {name: _level(name) for name in "LMQH"}


def _matrix(url: str, error_correction: str) -> list[list[bool]]:
    """The symbol of `url`, quiet zone included: qrcode's own, with the mask qrcode would choose.

    qrcode chooses the mask by building the symbol eight times and scoring each in pure Python
    (about 70% of a code's time). Here qrcode places the data once, the eight candidates are made
    from it as arrays and scored at once (`_mask_penalties`: qrcode's four rules, counted the same
    way), and the symbol is the chosen candidate with qrcode's format and version areas for that
    mask. tests/test_qr.py holds it to qrcode's own symbol on many URLs, levels and versions."""
    import numpy as np
    import qrcode

    code = qrcode.QRCode(error_correction=_LEVELS[error_correction](), border=QUIET_ZONE, box_size=1)
    code.add_data(url.encode("utf-8"), optimize=0)
    code.best_fit()
    mask, candidates = _scored(code)
    data = _layout(code.version)[0]
    code.mask_pattern = mask
    code.modules = np.where(data, candidates[mask], _modules(code.version, code.error_correction, mask)).tolist()
    return code.get_matrix()


def _scored(code):
    """(the mask qrcode's `best_mask_pattern()` would choose for `code`, a QRCode whose version is
    fitted: the first of the lowest penalty; the eight candidate symbols as qrcode scores them)."""
    import numpy as np

    code.makeImpl(True, 0)                   # data placed under mask 0, format areas left light
    data, function, patterns = _layout(code.version)
    placed = np.array(code.modules, dtype=bool)
    bits = placed ^ patterns[0]              # the data bits before masking (on data modules)
    candidates = np.where(data, bits[None] ^ patterns, function[None])
    penalties = _mask_penalties(candidates)
    return penalties.index(min(penalties)), candidates


def _blank(version: int, error_correction: int, mask: int, test: bool) -> list[list]:
    """qrcode's function modules of a symbol (None where data goes): finder, alignment and timing
    patterns, and the format and version areas as `makeImpl(test, mask)` sets them."""
    import qrcode

    n = version * 4 + 17
    blank = qrcode.QRCode(version=version, error_correction=error_correction, box_size=1, border=0)
    blank.modules_count = n
    blank.modules = [[None] * n for _ in range(n)]
    for row, col in ((0, 0), (n - 7, 0), (0, n - 7)):
        blank.setup_position_probe_pattern(row, col)
    blank.setup_position_adjust_pattern()
    blank.setup_timing_pattern()
    blank.setup_type_info(test, mask)
    if version >= 7:
        blank.setup_type_number(test)
    return blank.modules


@functools.lru_cache(maxsize=8)
def _layout(version: int):
    """Of a symbol of `version`, as qrcode lays it out for scoring: which modules carry data, the
    light or dark of the others (format and version areas light), and the eight mask patterns."""
    import numpy as np
    from qrcode import util

    n = version * 4 + 17
    blank = _blank(version, _LEVELS["M"](), 0, test=True)     # any level and mask: scored, they are light
    data = np.array([[m is None for m in row] for row in blank], dtype=bool)
    function = np.array([[bool(m) for m in row] for row in blank], dtype=bool)
    patterns = np.array([[[bool(util.mask_func(k)(i, j)) for j in range(n)] for i in range(n)]
                         for k in range(8)], dtype=bool)
    return data, function, patterns


@functools.lru_cache(maxsize=64)
def _modules(version: int, error_correction: int, mask: int):
    """The function modules of the finished symbol: format and version areas for `mask`."""
    import numpy as np

    return np.array([[bool(m) for m in row] for row in _blank(version, error_correction, mask, test=False)],
                    dtype=bool)


# qrcode's rule 3: a finder-like run, light on one side (1:1:3:1:1 then four light, or mirrored)
_FINDER_LIKE = ((1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1))


def _mask_penalties(symbols) -> list[int]:
    """qrcode's `util.lost_point` of each symbol in `symbols` (k x n x n, bool), as integers."""
    import numpy as np

    k, n, _ = symbols.shape
    total = np.zeros(k, dtype=np.int64)
    for grid in (symbols, symbols.transpose(0, 2, 1)):
        # rule 1: every run of 5 or more alike in a row (then a column) costs its length - 2
        starts = np.ones((k, n, n), dtype=bool)
        starts[:, :, 1:] = grid[:, :, 1:] != grid[:, :, :-1]
        flat = np.flatnonzero(starts)
        lengths = np.diff(np.append(flat, k * n * n))
        long = lengths >= 5
        total += np.bincount(flat[long] // (n * n), weights=lengths[long] - 2, minlength=k).astype(np.int64)
        # rule 3: 40 for every finder-like window
        windows = np.lib.stride_tricks.sliding_window_view(grid, 11, axis=2)
        for pattern in _FINDER_LIKE:
            total += 40 * (windows == np.array(pattern, dtype=bool)).all(axis=3).sum(axis=(1, 2))
    # rule 2: 3 for every 2x2 block alike
    top, bottom = symbols[:, :-1, :], symbols[:, 1:, :]
    alike = (top[:, :, :-1] == top[:, :, 1:]) & (top[:, :, 1:] == bottom[:, :, 1:]) & (bottom[:, :, 1:] == bottom[:, :, :-1])
    total += 3 * alike.sum(axis=(1, 2))
    # rule 4: 10 for every whole 5% of dark modules away from 50%
    dark = symbols.sum(axis=(1, 2))
    return [int(total[m]) + int(abs(float(dark[m]) / (n * n) * 100 - 50) / 5) * 10 for m in range(k)]


def _logo_box(n: int) -> tuple[int, int]:
    """(offset, side) in modules of the logo's white plate: centred, at most LOGO_SHARE of the symbol."""
    symbol = n - 2 * QUIET_ZONE
    side = int(math.sqrt(LOGO_SHARE) * symbol)
    side -= (symbol - side) % 2                # keep it centred on whole modules
    return QUIET_ZONE + (symbol - side) // 2, side


def _png(matrix: list[list[bool]], box: int, logo: Logo | None, dpi: bool = True) -> bytes:
    from PIL import Image

    n = len(matrix)
    small = Image.new("1", (n, n), 255)        # black and white from the start: nothing to dither
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    image = small.resize((n * box, n * box), Image.Resampling.NEAREST)
    if logo is not None:
        offset, side = _logo_box(n)
        image = image.convert("RGB")
        image.paste((255, 255, 255), (offset * box, offset * box, (offset + side) * box, (offset + side) * box))
        pad = max(box, side * box // 12)
        art = logo.image.copy()
        art.thumbnail((side * box - 2 * pad, side * box - 2 * pad), Image.Resampling.LANCZOS)
        x = offset * box + (side * box - art.width) // 2
        y = offset * box + (side * box - art.height) // 2
        image.paste(art, (x, y), art)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **({"dpi": (DPI, DPI)} if dpi else {}))
    return buffer.getvalue()


def _svg(matrix: list[list[bool]], url: str, logo: Logo | None, size_mm: float) -> bytes:
    """One path of horizontal runs, in module units; crisp at any print size."""
    n = len(matrix)
    plate = _logo_box(n) if logo is not None else None
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_mm:.2f}mm" '
        f'height="{size_mm:.2f}mm" '
        'shape-rendering="crispEdges">\n',
        f"<title>{_xml_escape(url)}</title>\n",
        f'<rect width="{n}" height="{n}" fill="#fff"/>\n',
        f'<path fill="#000" d="{"".join(runs)}"/>\n',
    ]
    if plate is not None and logo is not None:
        offset, side = plate
        pad = side / 12
        parts.append(f'<rect x="{offset}" y="{offset}" width="{side}" height="{side}" fill="#fff"/>\n')
        parts.append(f'<image x="{offset + pad:g}" y="{offset + pad:g}" width="{side - 2 * pad:g}" '
                     f'height="{side - 2 * pad:g}" preserveAspectRatio="xMidYMid meet" '
                     f'href="{logo.data_uri()}"/>\n')
    parts.append("</svg>\n")
    return "".join(parts).encode("utf-8")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
