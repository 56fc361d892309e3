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
    corrected = next(((s, lang) for s in manifest["speeches"] for lang, entry in s["languages"].items()
                      if len(entry.get("editions", [])) > 1), None)
    if corrected is not None:
        speech, lang = corrected
        types["changes"] = _folder(speech["languages"][lang]["path"]) + "perubahan/2/"
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


ENGLISH_PATH = "/archive/"       # the English-only project's base_url path
# A long table of contents (folded on a phone) and a table wider than a phone.
SECTIONS = ["Opening", "Economy", "Food", "Energy", "Water", "Roads", "Ports", "Schools", "Universities",
            "Hospitals", "Clinics", "Housing", "Villages", "Cities", "Culture", "Sport", "Defence", "Closing"]
WIDE_TABLE = """| Province | Harvest 2023 (tonnes) | Harvest 2024 (tonnes) | Harvest 2025 (tonnes) | Change since 2023 | Share of the national total |
|---|---:|---:|---:|---:|---:|
| North Province | 1,204,000 | 1,310,500 | 1,402,750 | +16.5% | 21.4% |
| South Province | 980,250 | 1,002,000 | 1,050,125 | +7.1% | 16.0% |
"""


def english_only_project(dest: Path) -> Path:
    """A project with `languages = ["en"]`: no Indonesian anywhere but what speechgen itself
    might write. One long speech (18 sections, a wide table, footnotes) sent to two recipients."""
    (dest / "speeches/2025").mkdir(parents=True)
    (dest / "speeches/2024").mkdir(parents=True)
    (dest / "speechgen.toml").write_text(
        '[site]\ntitle = "Test Archive of Addresses"\n'
        f'base_url = "https://speeches.example.gov{ENGLISH_PATH}"\n'
        'default_language = "en"\nlanguages = ["en"]\npublisher = "Test Secretariat"\n'
        'description = "Addresses of the fictional Test Republic."\n', encoding="utf-8")
    (dest / "recipients.yaml").write_text(
        "recipients:\n"
        "  - id: council\n    name: National Council of the Test Republic\n    group: state\n"
        "  - id: library\n    name: National Library\n    group: archives\n", encoding="utf-8")
    body = ["Good morning to everyone here and to everyone listening.[^1]"]
    for n, section in enumerate(SECTIONS, 1):
        body += [f"## {section}", f"This is the part about {section.lower()}, paragraph {n}."]
        if section == "Food":
            body += ["### The harvest by province", WIDE_TABLE]
    body += ["[^1]: A footnote that says where the figures come from."]
    (dest / "speeches/2025/state-address.en.md").write_text(
        "---\ntitle: State Address to the Annual Session\nsubtitle: A test text\nspeaker: President Test\n"
        "date: 2025-08-15\noccasion: Annual Session\nplace: Test Hall\nrecipients: [state, archives]\n---\n\n"
        + "\n\n".join(body) + "\n", encoding="utf-8")
    (dest / "speeches/2024/teachers-day.en.md").write_text(
        "---\ntitle: Teachers' Day\nspeaker: Minister Test\ndate: 2024-11-25\noccasion: Teachers' Day\n---\n\n"
        "Teachers build the country, one lesson at a time.\n", encoding="utf-8")
    return dest
