"""The same Markdown built by speechgen, Pelican and MkDocs (HTML only), side by side in one run.

    pip install pelican mkdocs        # only for this comparison; not speechgen dependencies
    python bench/compare.py --sizes 100 1000

Each tool runs as its own process on the same generated speeches (bench.py's generator) and the
table gives seconds, output size and the ratio to speechgen. The machine is noisy: read ratios.
speechgen builds cold: its cache folder (SPEECHGEN_CACHE_DIR) is a new, empty one inside the run's
temporary folder, removed with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import make_project  # noqa: E402

PELICAN_CONF = """\
AUTHOR = "Bench"
SITENAME = "Bench"
SITEURL = ""
TIMEZONE = "UTC"
DEFAULT_LANG = "id"
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
DEFAULT_PAGINATION = False   # page 2 of "pembicara-1" would be "pembicara-12.html", another author's page
"""


def split(text: str) -> tuple[dict[str, str], str]:
    head, body = text.split("\n---\n", 1)
    meta = dict(line.split(": ", 1) for line in head.strip("-\n").splitlines())
    return meta, body


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--words", type=int, default=2000)
    args = parser.parse_args()
    print("| speeches | tool | seconds | output MB | ratio to speechgen |")
    print("|---:|---|---:|---:|---:|")
    for size in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix="speechgen-compare-"))
        try:
            project = make_project(tmp / "p", size, args.words, pdf=False, qr=False)
            sources = sorted((project / "speeches").rglob("*.md"))
            pelican, mkdocs = tmp / "pelican", tmp / "mkdocs"
            (pelican / "content").mkdir(parents=True)
            (mkdocs / "docs").mkdir(parents=True)
            (pelican / "pelicanconf.py").write_text(PELICAN_CONF)
            (mkdocs / "mkdocs.yml").write_text("site_name: Bench\nuse_directory_urls: true\n")
            (mkdocs / "docs" / "index.md").write_text("# Bench\n")
            for path in sources:
                meta, body = split(path.read_text())
                name = f"{path.parent.name}-{path.name.split('.')[0]}.md"
                (pelican / "content" / name).write_text(
                    f"Title: {meta['title']}\nDate: {meta['date']}\nAuthor: {meta['speaker']}\n"
                    f"Category: {meta['occasion']}\n\n{body}")
                (mkdocs / "docs" / name).write_text(f"# {meta['title']}\n\n{body}")
            results = [
                ("speechgen", timed([sys.executable, "-m", "speechgen", "build", str(project), "-q"], tmp,
                                   {**os.environ, "SPEECHGEN_CACHE_DIR": str(tmp / "cache")}), project / "site"),
                ("Pelican", timed([sys.executable, "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"], pelican), pelican / "output"),
                ("MkDocs", timed([sys.executable, "-m", "mkdocs", "build", "-q"], mkdocs), mkdocs / "site"),
            ]
            base = results[0][1]
            for tool, seconds, out in results:
                print(f"| {size} | {tool} | {seconds:.2f} | {size_mb(out):.1f} | {seconds / base:.1f}x |", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
