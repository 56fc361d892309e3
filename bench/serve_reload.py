"""`speechgen serve`: from saving a speech to its page reloaded with the change (issue #11).

    python bench/serve_reload.py --speechgen /tmp/sgbench [--others 20] [--edits 5] [--no-pdf-config]

A project holds a 10,000-word bilingual speech (Indonesian and English, 10,000 words each) sent to
40 recipients (QR codes, copy pages, a card sheet), plus `--others` speeches of bench/archive.py's
shape (2,500 words, every other one translated). `[pdf]` and `[qr]` are on, as in a real project
(`--no-pdf-config`: `[pdf] enabled = false`). `python -m speechgen serve PROJECT --port P` runs as
its own process with a fresh SPEECHGEN_CACHE_DIR; the speech's Indonesian page is opened in
Playwright with Debian's /usr/bin/chromium.

Then, `--edits` times, a paragraph with a new marker word is appended to the speech's Indonesian
source (one write), and from the moment of that write (wall clock, `time.time()`) the script
records:
- status: when `/__speechgen/status` first reports a new build (polled every 10 ms), i.e. the
  rebuild is done and the preview would tell a page to reload;
- served: when a GET of the page first returns HTML with the marker (polled every 10 ms);
- reloaded: when the open page, reloaded by serve's script, has the marker, from the browser's own
  clock: `performance.timeOrigin` plus the navigation entry's `domContentLoadedEventEnd`.
serve's "pages ready in X s" log line gives the first pass's own time, and an "edited again" line
says that the edit stopped the second pass of the one before (`--gap`: the pause between a reload
and the next edit). How serve signals a reload (serve.py):
its watcher polls the project's files every 0.3 s (`Server.interval`), rebuilds, then bumps a
version number; each open page's injected script polls the status every 700 ms and reloads when
the version changes. Target: reloaded within 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from archive import WORDS_EN, WORDS_ID, body, make_archive, vocabulary  # noqa: E402
from under_test import code_env  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STEM, YEAR = "pidato-besar", 2025


def make_project(root: Path, others: int, words: int, recipients: int, pdf: bool) -> Path:
    make_archive(root, others, years=max(1, min(80, others)), pdf=pdf)
    config = (root / "speechgen.toml").read_text().replace("[qr]\nenabled = false", "[qr]\nenabled = true")
    (root / "speechgen.toml").write_text(config)
    rng = random.Random(10_000)
    folder = root / "speeches" / str(YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    head = ("---\ntitle: {title}\nspeaker: Presiden Dekade 8\ndate: 2025-08-16\noccasion: {occasion}\n"
            "place: Gedung Nusantara\n{extra}---\n\n")
    (folder / f"{STEM}.id.md").write_text(head.format(
        title="Pidato Kenegaraan Panjang", occasion="Sidang Tahunan", extra="recipients: [semua]\n")
        + body(rng, vocabulary("id", WORDS_ID, 8000), words, "id"), encoding="utf-8")
    (folder / f"{STEM}.en.md").write_text(head.format(
        title="Long State Address", occasion="Annual Session", extra="")
        + body(rng, vocabulary("en", WORDS_EN, 8000), words, "en"), encoding="utf-8")
    (root / "recipients.yaml").write_text("recipients:\n" + "".join(
        f"  - id: lembaga-{i:03d}\n    name: Lembaga Contoh Nomor {i}\n    group: semua\n"
        f"    address: Jalan Contoh No. {i}, Kota Contoh\n" for i in range(1, recipients + 1)))
    return folder / f"{STEM}.id.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError:
        return None


class Serve:
    def __init__(self, project: Path, code: Path | None, cache: Path):
        self.port = free_port()
        env = code_env(code, dict(os.environ, SPEECHGEN_CACHE_DIR=str(cache), PYTHONUNBUFFERED="1"))
        self.log: list[tuple[float, str]] = []
        self.started = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "speechgen", "serve", str(project), "--port", str(self.port)],
            env=env, cwd=project.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.answers: dict[str, float] = {}     # "any": the first answer; "page": the first built page
        threading.Thread(target=self._first_answers, daemon=True).start()

    def _first_answers(self) -> None:
        """The home page asked every 20 ms from the start: when serve first answers at all (its
        "building..." page on a cold cache), and when it first answers with the site's own page."""
        while "page" not in self.answers and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    data = response.read()
            except urllib.error.HTTPError as answer:       # 503: "building..."
                data = answer.read()
            except OSError:
                data = None
            now = time.time() - self.started
            if data is not None:
                self.answers.setdefault("any", now)
                if b"Building the preview" not in data:
                    self.answers["page"] = now
            time.sleep(0.02)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append((time.time(), line.rstrip("\n")))

    def version(self) -> int | None:
        data = get(self.url + "__speechgen/status")
        return None if data is None else json.loads(data)["version"]

    def wait_ready(self, timeout: float) -> float:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("serve ended:\n" + "\n".join(line for _, line in self.log))
            if (self.version() or 0) >= 1:
                return time.time() - self.started
            time.sleep(0.1)
        raise SystemExit("serve did not start in time:\n" + "\n".join(line for _, line in self.log[-20:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)    # its own session: serve and its workers only
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def watch(until: float, interval: float, probe, done: dict, name: str) -> None:
    while time.time() < until and name not in done:
        if probe():
            done[name] = time.time()
            return
        time.sleep(interval)


def measure(serve: Serve, source: Path, page_path: str, edits: int, limit: float, gap: float = 2.0) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(serve.url + page_path, wait_until="load")
            page.wait_for_timeout(1500)           # the page's script has read the status once
            for n in range(1, edits + 1):
                marker = f"penanda{n}x{random.randrange(10**6)}"
                before = serve.version() or 0
                log_mark = len(serve.log)
                done: dict[str, float] = {}
                with source.open("a", encoding="utf-8") as f:
                    f.write(f"\nParagraf baru dengan kata {marker} untuk mengukur pratinjau.\n")
                written = time.time()
                until = written + limit
                threads = [
                    threading.Thread(target=watch, args=(until, 0.01, lambda: (serve.version() or 0) > before,
                                                         done, "status")),
                    threading.Thread(target=watch, args=(until, 0.01, lambda: marker.encode() in
                                                         (get(serve.url + page_path) or b""), done, "served")),
                ]
                for t in threads:
                    t.start()
                reloaded = None
                try:
                    page.wait_for_function(f"document.body && document.body.innerHTML.includes({marker!r})",
                                           timeout=limit * 1000, polling=50)
                    stamp = page.evaluate("performance.timeOrigin + "
                                          "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
                    reloaded = stamp / 1000 - written
                except Exception as exc:  # noqa: BLE001 - a reload that never came is a figure too
                    print(f"edit {n}: no reload with the change within {limit:.0f} s ({type(exc).__name__})")
                for t in threads:
                    t.join()
                ready = [line for at, line in serve.log[log_mark:] if "pages ready in" in line]
                stopped = any("edited again" in line for at, line in serve.log[log_mark:])
                rows.append({"edit": n, "status": done.get("status", float("nan")) - written,
                             "served": done.get("served", float("nan")) - written,
                             "reloaded": reloaded if reloaded is not None else float("nan"),
                             "ready": ready[-1].rsplit("in ", 1)[1].split(";")[0] if ready else "?",
                             "stopped": "yes" if stopped else "no",
                             "load": " ".join(Path("/proc/loadavg").read_text().split()[:3])})
                print(f"| {n} | {rows[-1]['status']:.2f} | {rows[-1]['served']:.2f} | "
                      f"{rows[-1]['reloaded']:.2f} | {rows[-1]['ready']} | {rows[-1]['stopped']} | "
                      f"{rows[-1]['load']} |", flush=True)
                time.sleep(gap)
        finally:
            browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--others", type=int, default=20, help="other speeches in the project (default 20)")
    parser.add_argument("--words", type=int, default=10000, help="words per language of the edited speech")
    parser.add_argument("--recipients", type=int, default=40)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--no-pdf-config", action="store_true", help="[pdf] enabled = false")
    parser.add_argument("--limit", type=float, default=120, help="seconds to wait for one reload")
    parser.add_argument("--gap", type=float, default=2.0,
                        help="seconds between a reload and the next edit (default 2: the next edit often "
                             "lands while the second pass of the one before is still making the PDFs)")
    parser.add_argument("--speechgen", type=Path, metavar="DIR", help="run the speechgen package in DIR")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="speechgen-serve-bench-"))
    serve = None
    try:
        source = make_project(tmp / "p", args.others, args.words, args.recipients, not args.no_pdf_config)
        serve = Serve(tmp / "p", args.speechgen.resolve() if args.speechgen else None, tmp / "cache")
        first = serve.wait_ready(1800)
        print(f"serve: first answer (any page) {serve.answers.get('any', float('nan')):.2f} s after start, "
              f"the home page built {serve.answers.get('page', float('nan')):.2f} s, "
              f"status reports its first build {first:.1f} s ({args.others} other speeches; "
              f"[pdf] enabled = {str(not args.no_pdf_config).lower()}; [qr] on, {args.recipients} recipients); "
              f"target: first answer within 2 s")
        print("\n| edit | s to status (rebuild done) | s to page served with the change | "
              "s to page reloaded in the browser | serve: pages ready in | previous edit's second pass stopped | "
              "load avg after |")
        print("|---:|---:|---:|---:|---|---|---|", flush=True)
        rows = measure(serve, source, f"{YEAR}/{STEM}/", args.edits, args.limit, args.gap)
        med = {k: statistics.median(r[k] for r in rows) for k in ("status", "served", "reloaded")}
        worst = max(r["reloaded"] for r in rows)
        print(f"\nmedian: status {med['status']:.2f} s, served {med['served']:.2f} s, reloaded {med['reloaded']:.2f} s "
              f"(worst {worst:.2f} s); target 1 s: {'met' if worst <= 1 else '**not met**'}")
    finally:
        if serve is not None:
            serve.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
