"""The least a cold build of the national archive can cost on speechgen's stack, beside the peers
doing the same work in the same run (MkDocs, whose search index is on by default, and Pelican
followed by Pagefind): the floor under the cold-build and first-search targets.

    python bench/floor.py --peers-python /tmp/peers/bin/python [--speeches 1000] [--rounds 3]

The floor is only what no build of this archive on this stack can skip, each part measured as CPU
time (user + system, `wait4`) of its own process:
- markdown-it-py (the parser speechgen must use: CommonMark, tables, footnotes) turning every
  language version's body into HTML, in one process; each result is written as the smallest page
  Pagefind indexes (`<html lang>`, a title, the body in `data-pagefind-body`);
- the Pagefind binary over those pages, one run per shard of at most `--shard-pages` pages of one
  language (speechgen's own shard size, set by the indexer's memory; see below), called directly,
  not through `python -m pagefind`.
No templates, no link previews, no listings, no cache, no atomic writer. The floor's wall time is
that CPU time spread perfectly over every core; the real build can only be slower. Its ratios to
MkDocs' cold build and to Pelican's followed by Pagefind's (same Markdown, same round, the order
flipped every round; bench/compare.py's peers) are what the cold-build targets (at most 0.75x
MkDocs, at most 1.0x Pelican+Pagefind) are held against: a target below the floor cannot be met
on this stack.

First search: each Pagefind index is cut into chunks of words, and a query word fetches the one
chunk holding it from every index it searches. The script measures the chunks (median bytes per
index), the files every first search fetches (`pagefind.js`, the WebAssembly engine, each index's
entry and metadata, five results' fragments) and the Pagefind process's memory per page (from a
run over `--probe-pages` pages and the full shards). Pagefind closes a chunk at 20,000 word
locations (a constant in its source, not an option), so a chunk weighs about the same however
large its index: a first search costs a chunk per index it searches. From these it works out the
fewest indexes the `--memory-mib` budget (300) allows, with Pagefind alone in it and with the
build's own process beside it (`--build-mib`: the build draws the link previews while Pagefind
runs; bench.py --memory measures it), and the bytes of a first search over those indexes,
searching every language or only the reader's: one WebAssembly engine for each language searched
(its stemmer is built into it) and Pagefind's script as the build packs it (gzip).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from archive import versions  # noqa: E402
from compare import MIB, Peers, loadavg, run_child  # noqa: E402

MARKDOWN_CHILD = r"""
import sys
from pathlib import Path
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
src, out = Path(sys.argv[1]), Path(sys.argv[2])
md = MarkdownIt("commonmark", {"html": False}).enable("table").use(footnote_plugin)
for path in sorted(src.rglob("*.md")):
    lang, title, body = path.read_text(encoding="utf-8").split("\n", 2)
    page = out / lang / path.parent.name / path.stem / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
                    f'</head><body><article data-pagefind-body><h1>{title}</h1>{md.render(body)}</article>'
                    "</body></html>", encoding="utf-8")
"""

RESULTS_SHOWN = 5       # results a first search shows, each fetching its page's fragment
FIRST_SEARCH_KB = 450   # the first search's target: every language's indexes, one search page


def pagefind_binary() -> str:
    """The binary the pagefind package runs (`python -m pagefind` execs it; the build runs it
    directly, `search.indexer`)."""
    found = subprocess.run([sys.executable, "-c", "from pagefind.service import get_executable as e; "
                            "print(e().resolve())"], capture_output=True, text=True)
    if found.returncode != 0 or not found.stdout.strip():
        raise SystemExit("no Pagefind: pip install 'pagefind[extended]'")
    return found.stdout.strip()


def run(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of a child process."""
    seconds, usage = run_child(command)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def shards(pages: Path, size: int) -> list[tuple[str, list[Path]]]:
    """The pages of each language in groups of at most `size`, as speechgen spreads them."""
    out = []
    for lang_dir in sorted(p for p in pages.iterdir() if p.is_dir()):
        found = sorted(lang_dir.rglob("index.html"))
        count = -(-len(found) // size)
        per = -(-len(found) // count)
        out += [(lang_dir.name, found[i:i + per]) for i in range(0, len(found), per)]
    return out


def index(binary: str, group: list[Path], pages: Path, work: Path) -> tuple[float, float, int, Path]:
    """Pagefind over one shard's pages (linked into a folder of their own)."""
    site, bundle = work / "site", work / "bundle"
    shutil.rmtree(work, ignore_errors=True)
    for page in group:
        target = site / page.relative_to(pages)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(page, target)
    wall, cpu, rss = run([binary, "--site", str(site), "--output-path", str(bundle), "--keep-index-url", "--silent"])
    return wall, cpu, rss, bundle


def sizes(folder: Path, pattern: str) -> list[int]:
    return [p.stat().st_size for p in folder.glob(pattern)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speeches", type=int, default=1000)
    parser.add_argument("--words", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shard-pages", type=int, default=180,
                        help="pages per Pagefind run at most (default 180: speechgen's graph.SHARD_PAGES)")
    parser.add_argument("--probe-pages", type=int, default=20, help="pages of the small run that sets Pagefind's base memory")
    parser.add_argument("--memory-mib", type=int, default=300, help="the all-process memory target (default 300)")
    parser.add_argument("--build-mib", type=int, default=111,
                        help="the build's own process while Pagefind runs beside it, Pss (default 111: "
                             "bench.py --memory at 1,000 speeches)")
    parser.add_argument("--peers-python", default=sys.executable, help="the Python with pelican and mkdocs installed")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    binary = pagefind_binary()
    tmp = Path(tempfile.mkdtemp(prefix="speechgen-floor-"))
    try:
        sources = tmp / "sources"
        peers = Peers(tmp / "peers", args.peers_python, hugo="", mkdocs=True)     # the peers' copies, as compare.py's
        count = 0
        for v in versions(args.speeches, 80, args.words):
            folder = sources / str(v.year)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{v.stem}.{v.lang}.md").write_text(f"{v.lang}\n{v.title}\n{v.body}", encoding="utf-8")
            peers.add(v)
            count += 1
        print(f"{cores} cores; {args.speeches:,} speeches, {count:,} language versions of about {args.words:,} "
              f"words; Pagefind {binary}; load average at the start {loadavg()}\n", flush=True)
        print("| round | step | wall s | CPU s (user + system) | peak MiB | load avg before |\n|---:|---|---:|---:|---:|---|",
              flush=True)
        rounds: list[dict] = []
        last_bundles: list[tuple[str, int, Path]] = []     # language, pages, bundle
        shard_rss: list[int] = []                           # each shard's peak, KiB
        for r in range(1, args.rounds + 1):
            figures: dict = {}

            def peers_cold() -> None:
                wall, rss, load, _ = peers.build("Pelican")
                more, more_rss, _, _ = peers.build("Pagefind")
                figures["pelican"] = wall
                figures["pelican_pagefind"] = wall + more
                print(f"| {r} | Pelican cold build | {wall:.2f} | | {rss / MIB:.0f} | {load} |", flush=True)
                print(f"| {r} | Pelican+Pagefind cold build | {wall + more:.2f} | | {max(rss, more_rss) / MIB:.0f} "
                      f"| {load} |", flush=True)
                wall, rss, load, _ = peers.build("MkDocs")
                figures["mkdocs"] = wall
                print(f"| {r} | MkDocs cold build | {wall:.2f} | | {rss / MIB:.0f} | {load} |", flush=True)

            def floor() -> None:
                pages = tmp / "pages"
                shutil.rmtree(pages, ignore_errors=True)
                load = loadavg()
                wall, cpu, rss = run([sys.executable, "-c", MARKDOWN_CHILD, str(sources), str(pages)])
                figures["markdown"] = cpu
                print(f"| {r} | markdown-it-py, {count:,} bodies | {wall:.2f} | {cpu:.2f} | {rss / MIB:.0f} | {load} |",
                      flush=True)
                groups = shards(pages, args.shard_pages)
                total_wall = total_cpu = 0.0
                peak = 0
                last_bundles.clear()
                shard_rss.clear()
                for n, (lang, group) in enumerate(groups):
                    wall, cpu, rss, bundle = index(binary, group, pages, tmp / f"shard-{n}")
                    total_wall, total_cpu, peak = total_wall + wall, total_cpu + cpu, max(peak, rss)
                    last_bundles.append((lang, len(group), bundle))
                    shard_rss.append(rss)
                figures["pagefind"], figures["pagefind_peak"] = total_cpu, peak
                print(f"| {r} | Pagefind, {len(groups)} shards of at most {args.shard_pages} pages | {total_wall:.2f} | "
                      f"{total_cpu:.2f} | {peak / MIB:.0f} | {load} |", flush=True)

            for step in ((peers_cold, floor) if r % 2 else (floor, peers_cold)):
                step()
            rounds.append(figures)

        print("\n| round | MkDocs cold s | Pelican+Pagefind cold s | floor CPU s (markdown + Pagefind) | floor wall s "
              f"on {cores} cores | floor / MkDocs | floor / Pelican+Pagefind |\n|---:|---:|---:|---:|---:|---:|---:|")
        against: dict[str, list[float]] = {"mkdocs": [], "pelican_pagefind": []}
        for r, f in enumerate(rounds, 1):
            cpu = f["markdown"] + f["pagefind"]
            for peer in against:
                against[peer].append(cpu / cores / f[peer])
            print(f"| {r} | {f['mkdocs']:.2f} | {f['pelican_pagefind']:.2f} | {cpu:.2f} ({f['markdown']:.2f} + "
                  f"{f['pagefind']:.2f}) | {cpu / cores:.2f} | {against['mkdocs'][-1]:.2f}x | "
                  f"{against['pelican_pagefind'][-1]:.2f}x |")
        for peer, name, target in (("mkdocs", "MkDocs", 0.75), ("pelican_pagefind", "Pelican+Pagefind", 1.0)):
            ratio = statistics.median(against[peer])
            print(f"\nMedian floor: **{ratio:.2f}x {name}'s cold build** (target at most {target}x): the target is "
                  + ("below the floor: it cannot be met on this stack." if ratio > target else
                     f"above the floor; what speechgen spends beyond {ratio:.2f}x is templates, previews, listings "
                     "and the writer."))

        # First search, from the last round's indexes.
        probe = shards(tmp / "pages", args.probe_pages)[0]
        _, _, probe_rss, _ = index(binary, probe[1], tmp / "pages", tmp / "probe")
        big = max(range(len(last_bundles)), key=lambda n: last_bundles[n][1])     # the largest shard
        big_pages, big_rss = last_bundles[big][1], shard_rss[big]
        per_page = (big_rss - probe_rss) / max(1, big_pages - len(probe[1]))

        def most_pages(budget_mib: int) -> int:
            """The most pages one Pagefind run may take in `budget_mib`."""
            room = budget_mib * MIB - probe_rss
            return max(1, int(room / per_page) + len(probe[1])) if per_page > 0 else 10 ** 9

        chunk = statistics.median(s for _, _, b in last_bundles for s in sizes(b / "index", "*.pf_index"))
        fragment = statistics.median(s for _, _, b in last_bundles for s in sizes(b / "fragment", "*.pf_fragment"))
        meta = statistics.median(s for _, _, b in last_bundles for s in sizes(b, "pagefind.*.pf_meta"))
        entry = statistics.median(s for _, _, b in last_bundles for s in sizes(b, "pagefind-entry.json"))
        first = last_bundles[0][2]
        js = len(gzip.compress((first / "pagefind.js").read_bytes(), compresslevel=9, mtime=0))
        langs: dict[str, int] = {}
        wasm: dict[str, int] = {}
        for lang, n, bundle in last_bundles:
            langs[lang] = langs.get(lang, 0) + n
            wasm[lang] = max(sizes(bundle, f"wasm.{lang}.pagefind") or sizes(bundle, "wasm.unknown.pagefind"))

        def first_search(searched: list[str], indexes: int) -> float:
            engines = sum(wasm[lang] for lang in searched)
            return js + engines + RESULTS_SHOWN * fragment + indexes * (chunk + meta + entry)

        alone, beside = args.memory_mib, args.memory_mib - args.build_mib
        print(f"\nPagefind's memory: {probe_rss / MIB:.0f} MiB over {len(probe[1])} pages, "
              f"{big_rss / MIB:.0f} MiB over {big_pages}: {per_page / MIB:.2f} MiB a page, so at most "
              f"{most_pages(alone):,} pages in one run under {alone} MiB with nothing else running, "
              f"{most_pages(beside):,} beside the build's own process ({args.build_mib} MiB).")
        print(f"\n| file a first search fetches | bytes (median) |\n|---|---:|\n| index chunk, per index | {chunk:,.0f} |\n"
              f"| metadata + entry, per index | {meta + entry:,.0f} |\n| pagefind.js, packed | {js:,} |\n"
              + "".join(f"| WebAssembly engine ({lang}) | {size:,} |\n" for lang, size in sorted(wasm.items()))
              + f"| fragment, per result ({RESULTS_SHOWN} shown) | {fragment:,.0f} |")
        print(f"\n| search over | pages | Pagefind's budget MiB | fewest indexes | first search KB at least | target |\n"
              "|---|---:|---:|---:|---:|---:|")
        for budget, label in ((alone, "alone"), (beside, "beside the build")):
            need = {lang: -(-n // most_pages(budget)) for lang, n in langs.items()}
            for lang, n in sorted(langs.items()):
                print(f"| {lang} only | {n:,} | {budget} ({label}) | {need[lang]} | "
                      f"{first_search([lang], need[lang]) / 1000:.0f} | {FIRST_SEARCH_KB} |")
            every = sum(need.values())
            print(f"| every language | {sum(langs.values()):,} | {budget} ({label}) | {every} | "
                  f"{first_search(sorted(langs), every) / 1000:.0f} | {FIRST_SEARCH_KB} |")
        print(f"\nload average at the end {loadavg()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
