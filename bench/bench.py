"""Benchmarks: generates N synthetic speeches and times `speechgen build` on them.

    python bench/bench.py                     # HTML only, 100 and 1,000 speeches
    python bench/bench.py --incremental [--pdf]   # cold, no-op and one-edit rebuilds
    python bench/bench.py --sizes 20 --pdf    # archival PDFs: serial vs parallel, cold vs cached
    python bench/bench.py --sizes 10 --qr --recipients 1000   # the first speech goes to 1,000
                                              # institutions: copy pages, QR codes, card sheet, CSV
    python bench/bench.py --memory --sizes 1000 4000 --pdf --qr --recipients 1000
                                              # one cold build each: peak memory of every process
    python bench/bench.py --memory --rebuild --sizes 1 --qr --recipients 10000
                                              # the same, then an unchanged rebuild
    python bench/bench.py --memory --archive --sizes 1000 4000   # issue #11's archive (bench/archive.py)

Each case runs `speechgen build` in its own process and reports wall seconds and peak RSS.
Figures go to stdout as a Markdown table; the machine is noisy, so compare ratios.

The build cache lives outside the project (`$SPEECHGEN_CACHE_DIR`, one subfolder per project), so
every build here runs with SPEECHGEN_CACHE_DIR set to a temporary folder of the benchmark's own:
a "cold" build gets a fresh, empty one (the previous one is removed) and no `site/`; the builds
after it reuse it. Nothing is left in ~/.cache. The cache's HMAC key ($XDG_STATE_HOME/speechgen/
cache.key) is the user's own, as in real use; it is not part of what a cold build makes again.

--memory polls /proc every 50 ms while one cold build runs and reports, for each process of the
build's tree (the build, its PDF workers, QR pool workers, the `pagefind` binary), its peak
resident set: VmHWM from /proc/PID/status (the kernel's own per-process peak, not sampled),
the largest VmRSS and Pss (proportional: pages shared with another process counted by share,
from /proc/PID/smaps_rollup) seen by a poll. That build runs with -v instead of -q, so that the
polls of the main process can be put in the stages it logs. --speechgen DIR runs the package in
DIR instead of the installed one (a fixed copy while someone edits the working tree).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from under_test import code_env  # noqa: E402

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
        text = "recipients:\n" + "".join(
            f"  - id: lembaga-{i:04d}\n    name: Lembaga Contoh Nomor {i}\n    group: semua\n"
            f"    address: Jalan Contoh No. {i}, Kota Contoh\n" for i in range(1, recipients + 1))
        if len(text.encode()) > RECIPIENTS_LIMIT:
            # speechgen reads at most 1 MiB of recipients.yaml (reader.MAX_RECIPIENTS_BYTES): past
            # about 8,600 recipients in the form above, one line each and shorter names
            text = "recipients:\n" + "".join(
                f'  - {{id: l{i:05d}, name: Lembaga Nomor {i}, group: semua, address: "Jl. Contoh {i}, Kota"}}\n'
                for i in range(1, recipients + 1))
            print(f"(recipients.yaml in the compact form: {len(text.encode()):,} bytes)", file=sys.stderr)
        (root / "recipients.yaml").write_text(text)
    return root


RECIPIENTS_LIMIT = 1024 * 1024


class CacheDir:
    """The SPEECHGEN_CACHE_DIR of the builds: a temporary folder, made afresh for each cold build."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def cold(self, project: Path) -> None:
        """A fresh, empty cache folder (the previous one removed) and no `site/`."""
        self.remove()
        self.path = Path(tempfile.mkdtemp(prefix="speechgen-bench-cache-"))
        shutil.rmtree(project / "site", ignore_errors=True)

    def env(self) -> dict[str, str]:
        if self.path is None:
            raise RuntimeError("no cache folder: call cold() before the first build")
        return {**child_env(), "SPEECHGEN_CACHE_DIR": str(self.path)}

    def remove(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


CACHE = CacheDir()
CODE: Path | None = None      # --speechgen: a folder holding the speechgen package to run


def child_env() -> dict[str, str]:
    """The builds' environment: with --speechgen, that copy of the package comes first."""
    return code_env(CODE)


def speechgen_used() -> str:
    """Where the builds' `speechgen` package is imported from (and its git commit, if any)."""
    where = subprocess.run([sys.executable, "-c", "import speechgen; print(speechgen.__file__)"],
                           env=child_env(), cwd=tempfile.gettempdir(), capture_output=True, text=True,
                           check=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(Path(where).parent), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    return where + (f" (git {commit})" if commit else "")


def build_command(project: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "speechgen", "build", str(project), "-q", *extra]


def run_build(project: Path, extra: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `speechgen build` in a child process: the largest
    resident set of that build's processes (its PDF workers included), not of earlier runs.
    Uses the current cache folder (CACHE); call CACHE.cold(project) first for a cold build."""
    start = time.perf_counter()
    child = subprocess.Popen(build_command(project, extra), env=CACHE.env(), cwd=project.parent)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"speechgen build failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss


def cold_build(project: Path, extra: list[str]) -> tuple[float, int]:
    CACHE.cold(project)
    return run_build(project, extra)


# --- --memory: the peak of every process of one build ----------------------------------------

@dataclass
class Proc:
    """One process image (a pid between two execs) seen in the build's tree."""
    pid: int
    ppid: int
    comm: str
    cmdline: str
    first: float
    last: float = 0.0
    hwm: int = 0          # KiB, VmHWM: the kernel's peak resident set of this image
    rss: int = 0          # KiB, largest VmRSS seen by a poll
    rss_at: float = 0.0   # seconds after the start when that was seen
    pss: int = 0          # KiB, largest Pss seen by a poll
    role: str = ""
    polls: int = 0
    execed: bool = False  # replaced by another program (the fork before an exec): not counted


@dataclass
class Sample:
    procs: dict[tuple[int, int, str], Proc] = field(default_factory=dict)
    peak_total_pss: int = 0       # KiB, the largest sum of Pss over the tree at one poll
    peak_total_at: float = 0.0
    peak_total_alive: str = ""
    timeline: list[tuple[float, int, int]] = field(default_factory=list)   # (s, main VmRSS, tree Pss)
    log: list[tuple[float, str]] = field(default_factory=list)             # (s, the build's -v line)


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def _status_kib(text: str, field_name: str) -> int:
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            found.extend(int(c) for c in text.split())
    return found


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(_children(pid))
    return pids


def poll(root: int, sample: Sample, now: float, known: set[tuple[int, int]]) -> None:
    """One look at /proc: every process now under `root`, and every one seen under it before
    that is still alive (a process whose parent died is reparented, but still counted). A
    process is (pid, start time): a pid that ended and was reused by another program is not ours."""
    total, alive, main_rss = 0, [], 0
    tree = set(_tree(root))
    for pid in tree | {pid for pid, _ in known}:
        stat = _read(f"/proc/{pid}/stat")
        status = _read(f"/proc/{pid}/status")
        if not stat or not status or "VmHWM" not in status:     # gone, or a zombie (no memory)
            if not stat:
                known.difference_update({k for k in known if k[0] == pid})
            continue
        after = stat[stat.rindex(")") + 2:].split()
        ppid, start = int(after[1]), int(after[19])
        if pid not in tree and (pid, start) not in known:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        rollup = _read(f"/proc/{pid}/smaps_rollup") or ""
        slot = (pid, start, comm)
        proc = sample.procs.get(slot)
        if proc is None:
            cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ").strip()
            for (other_pid, other_start, other_comm), other in sample.procs.items():
                if other_pid == pid and other_start == start and other_comm != comm:
                    other.execed = True       # the same process, now another program
            proc = sample.procs[slot] = Proc(pid, ppid, comm, cmdline, first=now)
            known.add((pid, start))
        rss, pss = _status_kib(status, "VmRSS"), _status_kib(rollup, "Pss")
        proc.last, proc.polls = now, proc.polls + 1
        proc.hwm = max(proc.hwm, _status_kib(status, "VmHWM"))
        if rss > proc.rss:
            proc.rss, proc.rss_at = rss, now
        proc.pss = max(proc.pss, pss)
        total += pss
        alive.append(f"{comm}:{pid}")
        if pid == root:
            main_rss = rss
    sample.timeline.append((now, main_rss, total))
    if total > sample.peak_total_pss:
        sample.peak_total_pss, sample.peak_total_at = total, now
        sample.peak_total_alive = " ".join(sorted(alive))


def _is_pdf_line(line: str) -> bool:
    """"PDF 12/1000": one more PDF done (the build's progress line when not on a terminal)."""
    words = line.split()
    return len(words) == 2 and words[0] == "PDF" and "/" in words[1]


def stage_lines(sample: Sample) -> list[tuple[float, str]]:
    """The build's -v stage lines, (seconds, message); each is logged when its stage ends, except
    "PDF: ... to render" (when the PDFs start). The PDFs end with the last "PDF n/n" line."""
    marks = [(at, line.split("s] ", 1)[1]) for at, line in sample.log
             if line.startswith("[") and "s] " in line]
    pdf_lines = [at for at, line in sample.log if _is_pdf_line(line)]
    if pdf_lines:
        marks.append((pdf_lines[-1], f"{len(pdf_lines)} PDFs rendered"))
    return sorted(marks)


def classify(sample: Sample, root: int) -> None:
    main = next((p for p in sample.procs.values() if p.pid == root and not p.execed), None)
    forkservers = {p.pid for p in sample.procs.values() if "multiprocessing.forkserver" in p.cmdline}
    marks = stage_lines(sample)
    pdf_start = next((at for at, what in marks if what.startswith("PDF: ")), None)
    pdf_end = next((at for at, what in marks if what.endswith(" PDFs rendered")), None)

    def forked_role(p: Proc) -> str:
        """A fork of the main process is named by the stage it started in."""
        if pdf_start is not None and pdf_end is not None and pdf_start - 1 <= p.first <= pdf_end:
            return "PDF worker (fork)"
        ends = next((what for at, what in marks if at >= p.first), "")
        if ends.startswith("pages"):
            return "page worker (fork)"
        if ends.startswith("made "):
            return "card sheet worker (fork)"
        return f"forked worker ({ends.split(':')[0][:30] or 'after the last stage'})"

    for p in sample.procs.values():
        if p is main:
            p.role = "main build process"
        elif p.execed:
            p.role = "fork before exec (not counted)"
        elif p.comm.startswith("pagefind") or "pagefind_bin" in p.cmdline.split(" ")[0]:
            p.role = "pagefind binary"
        elif " -m pagefind" in p.cmdline:
            p.role = "pagefind Python launcher (python -m pagefind)"
        elif "multiprocessing.resource_tracker" in p.cmdline:
            p.role = "multiprocessing resource tracker"
        elif p.pid in forkservers:
            p.role = "multiprocessing fork server"
        elif p.ppid in forkservers:
            p.role = "PDF worker (fork server)"
        elif "spawn_main" in p.cmdline:     # only the QR pool uses spawn
            p.role = "QR pool worker (spawn)"
        elif main is not None and p.ppid == root and p.cmdline == main.cmdline and p.polls > 2:
            p.role = forked_role(p)
        elif main is not None and p.comm == main.comm and p.polls <= 2:
            # seen for at most 100 ms: a fork caught before it became a helper program (its
            # resident set is then its parent's, shared), or a very short worker
            p.role = "short fork of a Python process (<= 2 polls; not a candidate for largest)"
        else:
            p.role = "other: short-lived helpers"


def measure_memory(project: Path, extra: list[str], interval: float = 0.05
                   ) -> tuple[float, int, Sample, int]:
    """One cold build, polled: wall seconds, peak RSS of the tree by wait4 (KiB), the sample."""
    import threading

    CACHE.cold(project)
    sample, known = Sample(), set()
    # -v: the build logs each stage as it ends, so the polls can be put in stages
    command = [arg for arg in build_command(project, extra) if arg != "-q"] + ["-v"]
    start = time.perf_counter()
    child = subprocess.Popen(command, env={**CACHE.env(), "PYTHONUNBUFFERED": "1"}, cwd=project.parent,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def read_log() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            sample.log.append((time.perf_counter() - start, line.rstrip("\n")))

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    while True:
        poll(child.pid, sample, time.perf_counter() - start, known)
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(interval)
    seconds = time.perf_counter() - start
    reader.join(timeout=10)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        print("\n".join(line for _, line in sample.log[-40:]))
        raise SystemExit(f"speechgen build failed with exit code {child.returncode}")
    classify(sample, child.pid)
    return seconds, usage.ru_maxrss, sample, child.pid


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _short(cmdline: str, width: int = 70) -> str:
    text = cmdline.replace("|", "\\|")
    return text if len(text) <= width else text[:width - 3] + "..."


def print_stages(sample: Sample, seconds: float) -> None:
    """The main process's largest polled RSS and the tree's largest Pss sum in each stage of the
    build: a stage runs from the previous stage line of its -v log to its own (the build logs a
    stage when it ends; "PDF: ... to render" when the PDFs start, "PDF n/m" as each is done)."""
    marks: list[tuple[float, str]] = [(0.0, "start"), *stage_lines(sample)]
    qr = [p for p in sample.procs.values() if p.role == "QR pool worker (spawn)"]
    if qr:             # the QR stage's line comes after the card sheets: split it where the pool ends
        marks.append((max(p.last for p in qr), "(QR codes drawn: the pool's workers are gone)"))
    marks.sort()
    marks.append((seconds, "process exit"))
    print("\n| stage (ends with this -v line) | ends at s | main process RSS MiB, largest | "
          "tree Pss MiB, largest sum |\n|---|---:|---:|---:|")
    for (before, _), (at, what) in zip(marks, marks[1:]):
        polls = [(rss, pss) for t, rss, pss in sample.timeline if before <= t <= at]
        if not polls:
            continue
        what = what if len(what) <= 60 else what[:57] + "..."
        print(f"| {what.replace('|', '/')} | {at:.1f} | {_mib(max(r for r, _ in polls))} | "
              f"{_mib(max(p for _, p in polls))} |")


def memory_case(project: Path, size: int, words: int, extra: list[str], label: str) -> dict:
    seconds, tree_maxrss, sample, root = measure_memory(project, extra)
    counted = [p for p in sample.procs.values() if not p.execed]
    roles: dict[str, list[Proc]] = {}
    for p in counted:
        roles.setdefault(p.role, []).append(p)
    helpers = sorted({p.comm for p in roles.get("other: short-lived helpers", [])})
    print(f"\n### {size:,} speeches, {words} words each{label}: cold build {seconds:.1f} s\n")
    print("| process | count | peak RSS MiB (VmHWM), largest | peak Pss MiB, largest | "
          "largest seen at s | alive s (first-last seen) |")
    print("|---|---:|---:|---:|---:|---|")
    order = ["main build process", "PDF worker (fork)", "PDF worker (fork server)", "page worker (fork)",
             "QR pool worker (spawn)", "card sheet worker (fork)", "pagefind binary",
             "pagefind Python launcher (python -m pagefind)"]
    for role in sorted(roles, key=lambda r: (order.index(r) if r in order else len(order), r)):
        group = roles[role]
        top = max(group, key=lambda p: p.hwm)
        name = f"{role} ({', '.join(helpers)})" if role.startswith("other") else role
        print(f"| {name} | {len(group)} | {_mib(top.hwm)} | {_mib(max(p.pss for p in group))} | "
              f"{top.rss_at:.1f} | {min(p.first for p in group):.1f}-{max(p.last for p in group):.1f} |")
    print_stages(sample, seconds)
    largest = max((p for p in counted if not p.role.startswith("short fork")), key=lambda p: p.hwm)
    main = next(p for p in counted if p.role == "main build process")
    print(f"\nLargest process: {largest.role} (pid {largest.pid}, `{_short(largest.cmdline)}`), "
          f"{_mib(largest.hwm)} MiB (VmHWM). Main build process: {_mib(main.hwm)} MiB, its largest "
          f"polled RSS at {main.rss_at:.1f} s of {seconds:.1f} s. wait4 ru_maxrss of the whole tree: "
          f"{_mib(tree_maxrss)} MiB. Largest sum of Pss over the tree at one poll: "
          f"{_mib(sample.peak_total_pss)} MiB at {sample.peak_total_at:.1f} s ({sample.peak_total_alive}).",
          flush=True)
    if tree_maxrss > largest.hwm + 1024:
        print(f"(wait4 saw {_mib(tree_maxrss - largest.hwm)} MiB more than any poll: a short-lived "
              "process or a last-moment peak was missed.)")
    return {"size": size, "seconds": seconds, "largest": largest, "main": main, "roles": roles,
            "tree": tree_maxrss}


def incremental_cases(project: Path, size: int, words: int, extra: list[str], label: str) -> None:
    """Cold build (fresh cache folder, no site/), no-op rebuild, and a rebuild after one edit to
    one speech's body."""
    rows = [("cold", *cold_build(project, extra)), ("no-op rebuild", *run_build(project, extra))]
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
        return cold_build(project, extra)

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
    """The Pagefind index alone (it is part of every cold build above), timed in this process
    on the speech pages of the site the build just wrote."""
    sys.path.insert(0, str(CODE or Path(__file__).resolve().parents[1]))
    from speechgen import graph, reader
    from speechgen.config import load_config
    from speechgen.render import search

    config = load_config(project)
    site = graph.make_site(config, reader.read_project(config))
    dests = search.search_pages(site)
    scratch = Path(tempfile.mkdtemp(prefix="speechgen-bench-search-"))
    try:
        started = time.perf_counter()
        files = search.build_index([(d, project / "site" / d) for d in dests], scratch, site.search_bundle)
        seconds = time.perf_counter() - started
        megabytes = sum(path.stat().st_size for _, path in files) / 1e6
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"| {size} | {words} | search index only: {len(dests)} pages, "
          f"{megabytes:.1f} MB | {seconds:.2f} | {1000 * seconds / size:.1f} | |",
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
    parser.add_argument("--memory", action="store_true",
                        help="one cold build per size, polling /proc every 50 ms: the peak resident "
                             "set of each process of the build (PDF workers, QR workers, pagefind)")
    parser.add_argument("--archive", action="store_true",
                        help="with --memory: the national archive of bench/archive.py (80 years, half "
                             "translated, 2,500 words a version, QR off) instead of the synthetic speeches")
    parser.add_argument("--rebuild", action="store_true",
                        help="with --memory: also time an unchanged rebuild after each cold build")
    parser.add_argument("--speechgen", type=Path, metavar="DIR",
                        help="run the speechgen package in DIR (e.g. `git archive HEAD speechgen | "
                             "tar -x -C DIR`) instead of the installed one: a fixed copy, unchanged "
                             "by edits made while a long run goes on")
    args = parser.parse_args()
    global CODE
    CODE = args.speechgen.resolve() if args.speechgen else None
    if args.archive:
        args.words = 2500            # what bench/archive.py writes per language version
    if args.memory:
        print(f"speechgen: {speechgen_used()}; Python {sys.version.split()[0]}; "
              f"{os.cpu_count()} cores", flush=True)
        label = (" +pdf" if args.pdf else ", --no-pdf") + (" +qr" if args.qr else "") + (
            f", {args.recipients:,} recipients" if args.recipients else "") + (
            ", search index" if importlib.util.find_spec("pagefind") else ", no search (pagefind not installed)")
        results = []
        for size in args.sizes:
            tmp = Path(tempfile.mkdtemp(prefix="speechgen-bench-"))
            try:
                if args.archive:         # issue #11's archive shape (bench/archive.py), HTML only
                    from archive import make_archive

                    make_archive(tmp / "p", size, pdf=args.pdf)
                    project = tmp / "p"
                else:
                    project = make_project(tmp / "p", size, args.words, args.pdf, args.qr, args.recipients)
                extra = [] if args.pdf else ["--no-pdf"]
                results.append(memory_case(project, size, args.words, extra, label))
                if args.rebuild:          # the cache of that cold build kept: nothing changed
                    seconds, rss = run_build(project, extra)
                    print(f"\nUnchanged rebuild right after: {seconds:.2f} s, largest process "
                          f"{_mib(rss)} MiB (wait4 ru_maxrss).", flush=True)
            finally:
                CACHE.remove()
                shutil.rmtree(tmp, ignore_errors=True)
        first = results[0]
        for later in results[1:]:
            print(f"\n{later['size']:,}/{first['size']:,} speeches: largest process "
                  f"{later['largest'].hwm / first['largest'].hwm:.2f}x "
                  f"({_mib(first['largest'].hwm)} -> {_mib(later['largest'].hwm)} MiB), main build process "
                  f"{later['main'].hwm / first['main'].hwm:.2f}x "
                  f"({_mib(first['main'].hwm)} -> {_mib(later['main'].hwm)} MiB), wall "
                  f"{later['seconds'] / first['seconds']:.2f}x")
        return
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
            seconds, rss = cold_build(project, [])
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
            CACHE.remove()
            shutil.rmtree(tmp, ignore_errors=True)
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
