"""Page weight of the sample site: HTML + CSS + JS a reader downloads per page type.

    python bench/page_weight.py              # builds the repository's sample project, prints a table

PDFs and fonts are left out (three self-hosted WOFF2 subsets, about 16 KB each, cached once).
"gzip" is what a host that compresses sends. The search page is counted twice: as loaded, and
after a first query, when the Pagefind runtime and the index of each language arrive.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
BUDGET = 60 * 1024            # HTML + CSS + JS of one page, uncompressed, before any search
SEARCH_BUDGET = 400 * 1024    # the search page after a first query, uncompressed


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "link" and d.get("rel") == "stylesheet" and d.get("href"):
            self.assets.append(d["href"])
        elif tag == "script" and d.get("src"):
            self.assets.append(d["src"])


def page_files(site: Path, dest: str) -> list[Path]:
    """The page and the CSS/JS it links, as files in the built site."""
    page = site / dest
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    files = [page]
    for ref in parser.assets:
        if ref.startswith("/"):          # the 404 page links from the site's root path
            files.append(site / ref.split("/_assets/", 1)[-1].join(["_assets/", ""]))
        else:
            files.append(Path(str(PurePosixPath(page.parent.as_posix()) / ref)).resolve())
    return files


def search_runtime(site: Path) -> list[Path]:
    """What a first query loads: Pagefind's script and worker, each language's WASM, meta and index."""
    bundle = site / "pagefind"
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    files = [bundle / "pagefind.js", bundle / "pagefind-worker.js", bundle / "pagefind-entry.json"]
    for lang, info in entry["languages"].items():
        files.append(bundle / f"wasm.{info['wasm'] or 'unknown'}.pagefind")
        files.append(bundle / f"pagefind.{info['hash']}.pf_meta")
    files += sorted((bundle / "index").glob("*.pf_index"))   # upper bound: every index chunk
    return [f for f in files if f.is_file()]


def weigh(files: list[Path]) -> tuple[int, int]:
    raw = sum(f.stat().st_size for f in files)
    zipped = sum(len(gzip.compress(f.read_bytes(), 9, mtime=0)) for f in files)
    return raw, zipped


def measure(site: Path) -> list[tuple[str, str, int, int]]:
    manifest = json.loads((site / "manifest.json").read_text())
    bilingual = next(s for s in manifest["speeches"] if len(s["languages"]) > 1)
    copies = [c for s in manifest["speeches"] for c in s.get("copies", [])]
    types = {
        "home": "index.html",
        "year": sorted(p.relative_to(site).as_posix() for p in (site / "tahun").glob("*/index.html"))[0],
        "speaker": sorted(p.relative_to(site).as_posix() for p in (site / "pembicara").glob("*/index.html"))[0],
        "speech (id)": bilingual["languages"]["id"]["path"],
        "speech (en)": bilingual["languages"]["en"]["path"],
        "side by side": f"{bilingual['id']}/berdampingan/index.html",
        "search": "cari/index.html",
        "accessibility": "aksesibilitas/index.html",
        "404": "404.html",
    }
    if copies:
        types["copy"] = copies[0]["path"]
    rows = []
    for kind, dest in types.items():
        if (site / dest).is_file():
            rows.append((kind, dest, *weigh(page_files(site, dest))))
    if (site / "pagefind/pagefind.js").is_file():
        files = page_files(site, "cari/index.html") + search_runtime(site)
        rows.append(("search, after a query (upper bound)", "cari/index.html + pagefind/", *weigh(files)))
    return rows


def main() -> int:
    sys.path.insert(0, str(REPO))
    from speechgen.build import build
    from speechgen.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build(load_config(REPO), out=site)
        rows = measure(site)
    print("| page type | file | HTML+CSS+JS bytes | gzip bytes | budget |")
    print("|---|---|---:|---:|---|")
    over = 0
    for kind, dest, raw, zipped in rows:
        budget = SEARCH_BUDGET if "query" in kind else BUDGET
        ok = raw <= budget
        over += not ok
        print(f"| {kind} | `{dest}` | {raw:,} | {zipped:,} | {'within' if ok else 'OVER'} {budget // 1024} KB |")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
