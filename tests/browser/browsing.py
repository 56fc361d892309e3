"""What the browser tests share: where things are, and which page stands for each page type."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules/axe-core/axe.min.js"
ARTIFACTS = REPO / "tests/artifacts"
SUB_PATH = "/arsip/"             # the sample's base_url path: the site is served where it says it lives
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def page_types(built_site: Path, manifest: dict) -> dict[str, str]:
    """One output path per page type of the sample site (copy pages when the site has them)."""
    bilingual = next(s for s in manifest["speeches"] if len(s["languages"]) > 1)
    langs = bilingual["languages"]
    types = {
        "home": "",
        "year": "tahun/2025/",
        "years": "tahun/",
        "speaker": next(p.parent.relative_to(built_site).as_posix() + "/"
                        for p in sorted((built_site / "pembicara").glob("*/index.html"))),
        "speech-id": _folder(langs["id"]["path"]),
        "speech-en": _folder(langs["en"]["path"]),
        "side-by-side": bilingual["id"] + "/berdampingan/",
        "search": "cari/",
        "accessibility": "aksesibilitas/",
        "404": "tidak-ada/halaman-ini/",
    }
    copies = [c for s in manifest["speeches"] for c in s.get("copies", [])]
    if copies:
        types["copy"] = _folder(copies[0]["path"])
    return types


def _folder(path: str) -> str:
    return path[: -len("index.html")] if path.endswith("index.html") else path


def copy_screenshot(src: Path, name: str) -> None:
    """Keep a screenshot for the README when asked (SPEECHGEN_UPDATE_DOCS=1)."""
    if os.environ.get("SPEECHGEN_UPDATE_DOCS") == "1":
        shutil.copyfile(src, REPO / "docs" / name)
