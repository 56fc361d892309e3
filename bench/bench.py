"""Benchmarks: generates N synthetic speeches and times `speechgen build` on them.

    python bench/bench.py                     # HTML only, 100 and 1,000 speeches
    python bench/bench.py --sizes 100 --pdf   # with archival PDFs (when the PDF part is enabled)

Each case runs `speechgen build` in its own process and reports wall seconds and peak RSS.
Figures go to stdout as a Markdown table; the machine is noisy, so compare ratios.
"""

from __future__ import annotations

import argparse
import random
import resource
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


def make_project(root: Path, count: int, words: int, pdf: bool, qr: bool) -> Path:
    rng = random.Random(count)
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text(
        '[site]\ntitle = "Bench"\nbase_url = "https://pidato.example.go.id/arsip/"\n'
        f"[pdf]\nenabled = {'true' if pdf else 'false'}\n[qr]\nenabled = {'true' if qr else 'false'}\n")
    for n in range(count):
        year = 2000 + n % 26
        folder = root / "speeches" / str(year)
        folder.mkdir(exist_ok=True)
        (folder / f"pidato-{n}.id.md").write_text(speech_text(rng, n, year, "id", words))
    return root


def run_build(project: Path, extra: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `speechgen build` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "speechgen", "build", str(project), "-q", *extra], check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--words", type=int, default=2000, help="words per speech (default 2000)")
    parser.add_argument("--pdf", action="store_true", help="also render PDFs")
    parser.add_argument("--qr", action="store_true", help="also render QR codes and cards")
    args = parser.parse_args()
    print("| speeches | words each | case | seconds | ms per speech | peak RSS MiB |")
    print("|---:|---:|---|---:|---:|---:|")
    for size in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix="speechgen-bench-"))
        try:
            project = make_project(tmp / "p", size, args.words, args.pdf, args.qr)
            seconds, rss = run_build(project, [])
            label = "cold build" + (" +pdf" if args.pdf else "") + (" +qr" if args.qr else "")
            print(f"| {size} | {args.words} | {label} | {seconds:.2f} | {1000 * seconds / size:.1f} | {rss / 1024:.0f} |",
                  flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
