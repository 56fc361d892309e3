"""`speechgen serve`: builds into a temporary folder (never site/), serves it on loopback, rebuilds
on every change to sources, templates, static files or config, and reloads the open page.

A failed rebuild keeps the last good preview on screen and shows the errors over it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from speechgen.errors import SpeechgenError
from speechgen.graph import INDEX, NOT_FOUND

STATUS_PATH = "/__speechgen/status"
IGNORED_DIRS = {"site", ".git", ".speechgen-cache", "__pycache__", "node_modules", ".venv"}

# Injected into HTML responses of the preview only; the built files are never changed.
RELOAD_SCRIPT = """
<script>
(function () {
  var seen = null, box = null;
  function show(errors) {
    if (!errors.length) { if (box) { box.remove(); box = null; } return; }
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:99999;" +
        "background:#7f1d1d;color:#fff;font:14px/1.5 monospace;padding:1rem;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "Gagal membangun / Build failed (the page shows the last good build):\\n\\n" + errors.join("\\n");
  }
  function poll() {
    fetch("%(status)s", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (seen !== null && s.version !== seen && !s.errors.length) { location.reload(); return; }
      seen = s.version; show(s.errors);
    }).catch(function () {}).finally(function () { setTimeout(poll, 700); });
  }
  poll();
})();
</script>
""" % {"status": STATUS_PATH}


@dataclass
class Preview:
    """What the server shows: the build number and the errors of the last attempt."""

    version: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def snapshot(project: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every input file; cheap enough to poll (a stat per file)."""
    found: dict[str, tuple[int, int]] = {}
    for path in project.rglob("*"):
        rel = path.relative_to(project)
        if rel.parts[0] in IGNORED_DIRS or rel.parts[0].startswith(".site") or any(
                part.startswith(".") and part not in (".keep",) for part in rel.parts[:-1]):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file():
            found[rel.as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return found


class _Handler(SimpleHTTPRequestHandler):
    preview: Preview

    def log_message(self, format: str, *args) -> None:   # quiet: the terminal is for build news
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?")[0] == STATUS_PATH:
            with self.preview.lock:
                body = json.dumps({"version": self.preview.version, "errors": self.preview.errors}).encode()
            self._send(200, "application/json", body)
            return
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / INDEX
        if path.suffix == ".html" and path.is_file():
            self._send(200, "text/html; charset=utf-8", _inject(path.read_bytes()))
            return
        if not path.exists():
            missing = Path(self.directory) / NOT_FOUND
            body = _inject(missing.read_bytes()) if missing.is_file() else b"404"
            self._send(404, "text/html; charset=utf-8", body)
            return
        super().do_GET()

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _inject(html: bytes) -> bytes:
    marker = b"</body>"
    script = RELOAD_SCRIPT.encode()
    return html.replace(marker, script + marker, 1) if marker in html else html + script


class Server:
    """A preview server; `start()` returns once the first build is done and the port is open."""

    def __init__(self, project: Path, port: int = 8000, *, log: Callable[[str], None] = print,
                 interval: float = 0.3, drafts: bool = True):
        self.project = project.resolve()
        self.port = port
        self.log = log
        self.interval = interval
        self.drafts = drafts
        self.preview = Preview()
        self.tmp = Path(tempfile.mkdtemp(prefix="speechgen-serve-"))
        self.out = self.tmp / "site"
        self.out.mkdir()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.httpd: ThreadingHTTPServer | None = None
        self._seen: dict[str, tuple[int, int]] = {}

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def rebuild(self) -> bool:
        from speechgen.build import build
        from speechgen.config import load_config

        started = time.perf_counter()
        try:
            build(load_config(self.project), out=self.out, drafts=self.drafts, preview=True)
        except SpeechgenError as error:
            with self.preview.lock:
                self.preview.errors = error.lines()
            for line in error.lines():
                self.log(line)
            self.log("Gagal membangun; pratinjau terakhir tetap tampil. / Build failed; "
                     "the last good preview stays up.")
            return False
        with self.preview.lock:
            self.preview.version += 1
            self.preview.errors = []
        self.log(f"Dibangun ulang / rebuilt in {time.perf_counter() - started:.2f} s")
        return True

    def start(self) -> None:
        # Taken before the first build and before start() returns, so no edit can slip between.
        self._seen = snapshot(self.project)
        self.rebuild()
        handler = type("Handler", (_Handler,), {"preview": self.preview})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), partial(handler, directory=str(self.out)))
        self.httpd.daemon_threads = True
        for target in (self.httpd.serve_forever, self._watch):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _watch(self) -> None:
        seen = self._seen
        while not self._stop.wait(self.interval):
            now = snapshot(self.project)
            if now != seen:
                changed = sorted(set(now.items()) ^ set(seen.items()))
                self.log(f"Berubah / changed: {', '.join(sorted({c[0] for c in changed})[:5])}")
                seen = now            # taken before the build: an edit made during it is seen next time
                self.rebuild()

    def stop(self) -> None:
        self._stop.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)
