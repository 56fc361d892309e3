"""Benchmarks: generates N synthetic speeches and times `speechgen build` on them.

    python bench/bench.py                     # HTML only, 100 and 1,000 speeches
    python bench/bench.py --incremental [--pdf]   # cold, no-op and one-edit rebuilds
    python bench/bench.py --sizes 20 --pdf    # archival PDFs: serial vs parallel, cold vs cached
    python bench/bench.py --sizes 10 --qr --recipients 1000   # the first speech goes to 1,000
                                              # institutions: copy pages, QR codes, card sheet, CSV

Each case runs `speechgen build` in its own process and reports wall seconds and peak RSS.
Figures go to stdout as a Markdown table; the machine is noisy, so compare ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("rakyat negara pembangunan desa pulau sekolah guru petani nelayan jalan irigasi anggaran "
         "keadilan persatuan kesehatan pangan laut hutan energi arsip terbuka warga daerah kota "
         "bekerja bersama jujur sabar maju adil makmur").split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
    return " ".join(words).capitalize() + "."


def speech_text(rng: random.Random, n: int, year: int, lang: str, words: int) -> str:
    day = f"{year}-{(n % 12) + 1:02d}-{(n % 27) + 1:02d}"
    parts = [f"---\ntitle: Pidato Sintetis {n}\nspeaker: Pembicara {n % 17}\ndate: {day}\n"
             f"occasion: Acara {n % 9}\nplace: Kota Contoh\n---\n"]
    written, section = 0, 0
    while written < words:
        if written % 600 < 60:
            section += 1
            parts.append(f"\n## Bagian {section}\n")
        paragraph = " ".join(sentence(rng) for _ in range(5))
        written += len(paragraph.split())
        parts.append(paragraph + (f"[^{section}]" if section % 3 == 0 and written % 600 < 120 else "") + "\n")
    parts.append("\n| Sektor | Nilai |\n|---|---:|\n| A | 1 |\n| B | 2 |\n")
    parts.extend(f"\n[^{i}]: Catatan {i}.\n" for i in range(3, section + 1, 3))
    return "\n".join(parts)


def make_project(root: Path, count: int, words: int, pdf: bool, qr: bool, recipients: int = 0) -> Path:
    rng = random.Random(count)
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text(
        '[site]\ntitle = "Bench"\nbase_url = "https://pidato.example.go.id/arsip/"\n'
        f"[pdf]\nenabled = {'true' if pdf else 'false'}\n[qr]\nenabled = {'true' if qr else 'false'}\n")
    for n in range(count):
        year = 2000 + n % 26
        folder = root / "speeches" / str(year)
        folder.mkdir(exist_ok=True)
        text = speech_text(rng, n, year, "id", words)
        if n == 0 and recipients:       # one speech sent to every institution
            text = text.replace("\n---\n", "\nrecipients: [semua]\n---\n", 1)
        (folder / f"pidato-{n}.id.md").write_text(text)
    if recipients:
        (root / "recipients.yaml").write_text("recipients:\n" + "".join(
            f"  - id: lembaga-{i:04d}\n    name: Lembaga Contoh Nomor {i}\n    group: semua\n"
            f"    address: Jalan Contoh No. {i}, Kota Contoh\n" for i in range(1, recipients + 1)))
    return root


def run_build(project: Path, extra: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `speechgen build` in a child process: the largest
    resident set of that build's processes (its PDF workers included), not of earlier runs."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "speechgen", "build", str(project), "-q", *extra])
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"speechgen build failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss


def incremental_cases(project: Path, size: int, words: int, extra: list[str], label: str) -> None:
    """Cold build (no cache), no-op rebuild, and a rebuild after one edit to one speech's body."""
    shutil.rmtree(project / ".speechgen-cache", ignore_errors=True)
    shutil.rmtree(project / "site", ignore_errors=True)
    rows = [("cold", *run_build(project, extra)), ("no-op rebuild", *run_build(project, extra))]
    source = sorted((project / "speeches").rglob("*.md"))[size // 2]
    source.write_text(source.read_text() + "\nSatu paragraf baru untuk mengukur suntingan.\n")
    rows.append(("one-edit rebuild", *run_build(project, extra)))
    for case, seconds, rss in rows:
        print(f"| {size} | {words} | {case}{label} | {seconds:.2f} | {1000 * seconds / size:.1f} | "
              f"{rss / 1024:.0f} |", flush=True)


def pdf_cases(project: Path, size: int, words: int, notes: list[str]) -> None:
    """PDF rows: serial (-j1) and parallel cold builds, a cached rebuild, and HTML alone; then
    seconds per PDF page (PDF time = build time minus the same build with --no-pdf)."""
    import json

    def cold(extra: list[str]) -> tuple[float, int]:
        shutil.rmtree(project / ".speechgen-cache", ignore_errors=True)
        return run_build(project, extra)

    cores = os.cpu_count() or 1
    html, html_rss = cold(["--no-pdf"])
    serial, serial_rss = cold(["-j", "1"])
    parallel, parallel_rss = cold([])
    cached, cached_rss = run_build(project, [])
    manifest = json.loads((project / "site" / "manifest.json").read_text())
    pages = sum(entry["pdf"]["pages"] for speech in manifest["speeches"]
                for entry in speech["languages"].values())
    for label, seconds, rss in (("html only (--no-pdf)", html, html_rss), ("+pdf cold, -j 1", serial, serial_rss),
                                (f"+pdf cold, -j {cores} (default)", parallel, parallel_rss),
                                ("+pdf rebuild, all cached", cached, cached_rss)):
        print(f"| {size} | {words} | {label} | {seconds:.2f} | {1000 * seconds / size:.1f} | {rss / 1024:.0f} |",
              flush=True)
    notes.append(
        f"{size} speeches, {pages} PDF pages: {(serial - html) / pages:.3f} s per PDF page serial, "
        f"{(parallel - html) / pages:.3f} s parallel on {cores} cores; serial/parallel "
        f"{(serial - html) / max(parallel - html, 1e-9):.2f}x (PDF time), {serial / parallel:.2f}x (whole build); "
        f"cold/cached rebuild {parallel / cached:.1f}x")


def search_case(project: Path, size: int, words: int) -> None:
    """The Pagefind index alone (it is part of every cold build above), timed in this process."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from speechgen import graph, reader, templates
    from speechgen.config import load_config
    from speechgen.render import html, search

    config = load_config(project)
    site = graph.make_site(config, reader.read_project(config))
    pages = list(html.render_site(site, templates.make_environment(config.templates_dir)))
    started = time.perf_counter()
    files = search.render_search_index(site, pages)
    seconds = time.perf_counter() - started
    print(f"| {size} | {words} | search index only: {len(search.search_pages(site))} pages, "
          f"{sum(len(a.data) for a in files) / 1e6:.1f} MB | {seconds:.2f} | {1000 * seconds / size:.1f} | |",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--words", type=int, default=2000, help="words per speech (default 2000)")
    parser.add_argument("--pdf", action="store_true", help="also render PDFs")
    parser.add_argument("--qr", action="store_true", help="also render QR codes and cards")
    parser.add_argument("--search", action="store_true", help="also time the search index alone")
    parser.add_argument("--incremental", action="store_true",
                        help="cold, no-op and one-edit builds (with --pdf: with PDFs, else --no-pdf)")
    parser.add_argument("--recipients", type=int, default=0,
                        help="institutions the first speech goes to (with --qr; e.g. 1000)")
    args = parser.parse_args()
    print("| speeches | words each | case | seconds | ms per speech | peak RSS MiB |")
    print("|---:|---:|---|---:|---:|---:|")
    notes: list[str] = []
    for size in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix="speechgen-bench-"))
        try:
            project = make_project(tmp / "p", size, args.words, args.pdf, args.qr, args.recipients)
            if args.incremental:
                extra = [] if args.pdf else ["--no-pdf"]
                incremental_cases(project, size, args.words, extra, ", +pdf" if args.pdf else ", html")
                continue
            seconds, rss = run_build(project, [])
            label = "cold build" + (" +pdf" if args.pdf else "") + (" +qr" if args.qr else "") + (
                f", {args.recipients:,} recipients" if args.recipients else "")
            print(f"| {size} | {args.words} | {label} | {seconds:.2f} | {1000 * seconds / size:.1f} | {rss / 1024:.0f} |",
                  flush=True)
            if args.search:
                search_case(project, size, args.words)
            if args.pdf:
                pdf_cases(project, size, args.words, notes)
            if args.qr and args.recipients:    # QR matrices and card sheets come from the cache
                seconds, rss = run_build(project, [])
                print(f"| {size} | {args.words} | rebuild, nothing changed{label[len('cold build'):]} | "
                      f"{seconds:.2f} | {1000 * seconds / size:.1f} | {rss / 1024:.0f} |", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
