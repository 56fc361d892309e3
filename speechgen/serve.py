"""`speechgen serve`: builds into a temporary folder (never site/), serves it on loopback, rebuilds
on every change to sources, templates, static files or config, and reloads the open page.

A failed rebuild keeps the last good preview on screen and shows the errors over it; so does any
failure of the watcher itself, which then goes on watching.

Only this machine is answered: the server listens on 127.0.0.1 and answers only requests whose
`Host` is 127.0.0.1, localhost or [::1] (any port), so a web page cannot read the preview (drafts
included) by pointing a name of its own at 127.0.0.1 (DNS rebinding). A connection that sends
nothing for `IDLE_TIMEOUT` seconds is closed, and a path longer than `MAX_PATH` is refused.
"""

from __future__ import annotations

import contextlib
import errno
import json
import mimetypes
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from speechgen.config import CONFIG_NAME, project_above
from speechgen.errors import SpeechgenError
from speechgen.graph import INDEX, NOT_FOUND

STATUS_PATH = "/__speechgen/status"
IGNORED_DIRS = {"site", ".git", ".speechgen-cache", "__pycache__", "node_modules", ".venv"}
TMP_PREFIX = "speechgen-serve-"     # + the project's name, this process's id, a random tail
IDLE_TIMEOUT = 15.0                 # seconds a connection may stay silent
MAX_PATH = 4096                     # characters of a request's path
_LOCAL_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?")

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
  var note = null;
  function pending(on) {
    if (!on) { if (note) { note.remove(); note = null; } return; }
    if (!note) {
      note = document.createElement("div");
      note.setAttribute("role", "status");
      note.style.cssText = "position:fixed;inset:0 0 auto auto;z-index:99999;background:#1f4e8c;color:#fff;" +
        "font:14px/1.4 sans-serif;padding:.4rem .8rem";
      note.textContent = "PDF, kartu dan indeks pencarian sedang dibuat… / PDFs, cards and the search index are being made…";
      document.body.appendChild(note);
    }
  }
  function poll() {
    fetch("%(status)s", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (seen !== null && s.version !== seen && !s.errors.length) { location.reload(); return; }
      seen = s.version; show(s.errors); pending(s.pending);
    }).catch(function () {}).finally(function () { setTimeout(poll, 100); });
  }
  poll();
})();
</script>
""" % {"status": STATUS_PATH}


# What a page not built yet answers while the first build runs: it reloads itself.
BUILDING_PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8">%(refresh)s
<title>Membangun pratinjau… / Building the preview…</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font:16px/1.5 sans-serif;margin:3rem auto;max-width:40rem;padding:0 1rem">
<h1 style="font-size:1.4rem">Membangun pratinjau… / Building the preview…</h1>
<p>Halaman ini memuat ulang sendiri begitu siap. / This page reloads itself as soon as it is ready.</p>
<p lang="en" style="color:#555">%(project)s</p>
</body></html>
"""


_SHARED = ("version", "errors", "pending", "writing")


@dataclass
class Preview:
    """What the server shows: the build number and the errors of the last attempt. With `shared`
    set (`run()`: the server answers from a process of its own), every change is also written to
    that file, which the server's process reads (`_SharedPreview`)."""

    version: int = 0
    errors: list[str] = field(default_factory=list)
    pending: bool = False        # PDFs, cards and the search index still being made (second pass)
    lock: threading.Lock = field(default_factory=threading.Lock)
    writing: object | None = None    # the running build's writer: its files are served before the swap
    project: str = ""
    shared: Path | None = None

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        if name in _SHARED and getattr(self, "shared", None) is not None:
            writing = getattr(self.writing, "tmp", None)
            state = {"version": self.version, "errors": self.errors, "pending": self.pending,
                     "writing": str(writing) if writing is not None else None, "project": self.project}
            part = self.shared.with_suffix(".part")
            part.write_text(json.dumps(state), encoding="utf-8")
            os.replace(part, self.shared)


class _Written:
    """The running build's folder as the server's process sees it: a file is there once it has
    bytes (the writer, `served`, renames each file into place whole)."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.files = self

    def __contains__(self, name: str) -> bool:
        try:
            return os.stat(os.path.join(self.tmp, name)).st_size > 0
        except (OSError, ValueError):
            return False


class _SharedPreview:
    """`Preview` read from the file the building process writes (`Preview.shared`)."""

    def __init__(self, path: Path, project: str) -> None:
        self.path = path
        self.project = project
        self.lock = threading.Lock()

    def _state(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"version": 0, "errors": [], "pending": False, "writing": None}

    @property
    def version(self) -> int:
        return self._state()["version"]

    @property
    def errors(self) -> list[str]:
        return self._state()["errors"]

    @property
    def pending(self) -> bool:
        return self._state()["pending"]

    @property
    def writing(self):
        tmp = self._state()["writing"]
        return _Written(tmp) if tmp else None


def snapshot(project: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every input file; cheap enough to poll (a stat per file). Ignored and
    hidden folders are not entered; a folder or file that cannot be read is left out."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(project):
        rel = os.path.relpath(folder, project)
        top = rel == "."
        dirs[:] = [d for d in dirs if not d.startswith(".")
                   and not (top and (d in IGNORED_DIRS or d.startswith(".site")))]
        for name in files:
            path = os.path.join(folder, name)
            try:
                info = os.stat(path)
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(info.st_mode):
                found[name if top else f"{Path(rel).as_posix()}/{name}"] = (info.st_mtime_ns, info.st_size)
    return found


def local_host(header: str | None) -> bool:
    """Whether a request's `Host` names this machine: 127.0.0.1, localhost or [::1], any port."""
    return header is not None and _LOCAL_HOST.fullmatch(header.strip().lower()) is not None


def _printable(text: str) -> str:
    """A file name for the terminal: bytes that are not UTF-8 as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class _Handler(SimpleHTTPRequestHandler):
    preview: Preview

    @property
    def timeout(self) -> float:      # the socket's timeout: an idle or trickling client is let go
        return IDLE_TIMEOUT

    def log_message(self, format: str, *args) -> None:   # quiet: the terminal is for build news
        pass

    def parse_request(self) -> bool:
        """Every method: only requests for this machine, with a path of sane length."""
        if not super().parse_request():
            return False
        if len(self.path) > MAX_PATH:
            self.send_error(414, f"path longer than {MAX_PATH} characters")
            return False
        if not local_host(self.headers.get("Host")):
            self.send_error(403, "this preview answers only http://127.0.0.1, localhost or [::1]")
            return False
        return True

    def send_head(self):
        try:
            return super().send_head()
        except (OSError, ValueError):
            self.send_error(404)
            return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?")[0] == STATUS_PATH:
            with self.preview.lock:
                body = json.dumps({"version": self.preview.version, "errors": self.preview.errors,
                                   "pending": self.preview.pending}).encode()
            self._send(200, "application/json", body)
            return
        try:
            path = Path(self.translate_path(self.path))
            found = self._find(path)
            if found is not None:
                data = found.read_bytes()
                if found.suffix == ".html":
                    self._send(200, "text/html; charset=utf-8", _inject(data))
                else:
                    self._send(200, mimetypes.guess_type(found.name)[0] or "application/octet-stream", data)
                return
        except (OSError, ValueError):          # a name too long for the file system, a NUL; a file
            pass                               # the build replaced while it was read
        with self.preview.lock:
            built = self.preview.version > 0
            errors = bool(self.preview.errors)
        if not built:                          # the first build is still running (or failed)
            page = BUILDING_PAGE % {"refresh": "" if errors else '\n<meta http-equiv="refresh" content="1">',
                                    "project": _html_text(self.preview.project)}
            self._send(503, "text/html; charset=utf-8", _inject(page.encode()), retry=True)
            return
        missing = self._find(Path(self.directory) / NOT_FOUND)
        body = _inject(missing.read_bytes()) if missing is not None else b"404"
        self._send(404, "text/html; charset=utf-8", body)

    def _find(self, path: Path) -> Path | None:
        """The file a request names (a folder's index.html), from the running build's writer when
        it has written it already, else from the output the last build swapped in."""
        out = Path(self.directory)
        try:
            rel = path.relative_to(out).as_posix()
        except ValueError:
            return None
        names = [INDEX] if rel == "." else [rel, f"{rel}/{INDEX}"]
        writer = self.preview.writing
        for name in names:
            if writer is not None and name in writer.files and writer.tmp is not None:
                candidate = Path(writer.tmp) / name
                if candidate.is_file():
                    return candidate
            candidate = out / name
            if candidate.is_file():
                return candidate
        return None

    def _send(self, status: int, kind: str, body: bytes, retry: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if retry:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inject(html: bytes) -> bytes:
    marker = b"</body>"
    script = RELOAD_SCRIPT.encode()
    return html.replace(marker, script + marker, 1) if marker in html else html + script


def temporary_folder(project: Path) -> Path:
    """A new folder for the preview, named for the project and this process
    (`speechgen-serve-<project>-<pid>-XXXX` in the system's temporary folder); first, the folders
    a killed preview of this user left (their process is gone) are removed."""
    base = Path(tempfile.gettempdir())
    clean_stale(base)
    name = re.sub(r"[^A-Za-z0-9_.]+", "_", project.name or "project").strip("._")[:40] or "project"
    return Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-{os.getpid()}-", dir=base))


_STALE = re.compile(re.escape(TMP_PREFIX) + r".*-(\d+)-[a-z0-9_]{8}")


def clean_stale(base: Path) -> list[Path]:
    """Remove the preview folders under `base` whose process has ended (a `kill -9`, a crash).
    Only this user's, only names this module makes; a folder whose process lives is left."""
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.fullmatch(entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            os.kill(int(match.group(1)), 0)
            continue                          # its preview still runs
        except ProcessLookupError:
            pass
        except (OSError, OverflowError):      # not ours to judge (another user's process)
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def quiet_workers(scratch: Path, forkserver: bool = True) -> None:
    """For the `serve` process (main thread, before any build): worker processes make their
    scratch files (WeasyPrint's font folders) under the preview's own folder, removed at exit even
    when a worker is stopped mid-book. With `forkserver` (a preview whose builds run beside other
    threads, `Server.start`), the fork server is started now with SIGINT ignored, so its workers
    ignore the Ctrl+C a terminal sends to every process of the group and the preview stops them
    itself, without a traceback from each; under `Server.run` the workers are forked from the
    builder and share its handler, which only asks the build to stop."""
    import multiprocessing
    from multiprocessing import forkserver

    from multiprocessing import util

    util.get_temp_dir()        # multiprocessing's own folder stays where it removes it itself at exit
    scratch.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = str(scratch)
    if not forkserver or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    # The fork server is where PDF workers come from while the preview's threads run; started
    # with SIGINT ignored, it and every worker it forks keep ignoring it.
    multiprocessing.get_context("forkserver").set_forkserver_preload(["speechgen.render.pdf"])
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


class Server:
    """A preview server. `start()` opens the port and starts the first build in the background;
    with `wait=True` (the default) it returns once that build is done. Until then every page
    answers "building…" and reloads itself; each page is served as soon as the build writes it."""

    def __init__(self, project: Path, port: int = 8000, *, log: Callable[[str], None] = print,
                 interval: float = 0.2, drafts: bool = True):
        self.project = Path(os.path.abspath(project))     # no system call: any name fails later, as a message
        if not (self.project / CONFIG_NAME).exists() and (above := project_above(self.project)) is not None:
            self.project = above                          # run from a folder inside the project
        self.port = port
        self.log = log
        self.interval = interval
        self.drafts = drafts
        self.preview = Preview()
        self.preview.project = str(self.project)
        self.tmp = temporary_folder(self.project)
        self.out = self.tmp / "site"
        self.out.mkdir()
        self._stop = threading.Event()
        self._first = threading.Event()        # the first build is over (made or failed)
        self._child: int | None = None         # the server's process (`run()`)
        self._threads: list[threading.Thread] = []
        self.httpd: ThreadingHTTPServer | None = None
        self._seen: dict[str, tuple[int, int]] = {}
        self._build_errors: list[str] = []     # what the last build said, shown again once the watcher recovers
        self._edited_again = False             # an edit stopped the last second pass: the next round starts at once

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def rebuild(self, seen: dict[str, tuple[int, int]] | None = None) -> bool:
        """Build; with `seen` (the snapshot the change was found in), the second pass stops as
        soon as the project differs from it, and the next round builds the newer edit."""
        from speechgen.build import Cancelled, build
        from speechgen.config import load_config

        # Two passes: the pages first, with every PDF the cache or the ledger already has (the
        # open page reloads with the edit), then PDFs, card sheets and the search index.
        started = time.perf_counter()
        try:
            config = load_config(self.project)
            # unseal: the preview shows embargoed speeches too, each page marked with its moment
            first = build(config, out=self.out, drafts=self.drafts, preview=True, defer_pdfs=True,
                          card_pdfs=False, search=False, unseal=True, cancel=self._stop.is_set,
                          writing=self._writing)
        except Cancelled:                # stopping: nothing more to say
            return False
        except SpeechgenError as error:
            self._failed(error.lines())
            return False
        except Exception as error:      # noqa: BLE001 - never leave the preview saying all is well
            self._failed([_unexpected(error, self.project)])
            return False
        finally:
            self.preview.writing = None
        self._build_errors = []
        with self.preview.lock:
            self.preview.version += 1
            self.preview.errors = []
            self.preview.pending = True
        self._say(f"Halaman siap / pages ready in {time.perf_counter() - started:.2f} s"
                  + (f"; {first.deferred} PDF menyusul / to follow" if first.deferred else ""))
        def edited_since() -> bool:
            return self._stop.is_set() or (seen is not None and snapshot(self.project) != seen)

        try:
            second = build(config, out=self.out, drafts=self.drafts, preview=True, cancel=edited_since,
                           unseal=True, writing=self._writing)
        except Cancelled:
            if self._stop.is_set():
                return False
            self._say("Diubah lagi / edited again: PDF, kartu dan indeks menyusul / PDFs, cards and index follow")
            self._edited_again = True
            return True
        except SpeechgenError as error:
            self._failed(error.lines())
            return False
        except Exception as error:      # noqa: BLE001
            self._failed([_unexpected(error, self.project)])
            return False
        finally:
            self.preview.writing = None
            with self.preview.lock:
                self.preview.pending = False
        if not second.unchanged:        # the PDFs, cards or index changed the site: show them
            with self.preview.lock:
                self.preview.version += 1
        self._say(f"Dibangun ulang / rebuilt in {time.perf_counter() - started:.2f} s")
        return True

    def _writing(self, writer) -> None:
        self.preview.writing = writer

    def _failed(self, lines: list[str]) -> None:
        self._build_errors = lines
        with self.preview.lock:
            self.preview.errors = lines
        for line in lines:
            self._say(line)
        self._say("Gagal membangun; pratinjau terakhir tetap tampil. / Build failed; "
                  "the last good preview stays up.")

    def _say(self, message: str) -> None:
        try:
            self.log(message)
        except Exception:               # noqa: BLE001 - a closed terminal must not stop the watcher
            pass

    def open(self) -> None:
        """Take the port (an OSError when it cannot be had); nothing is built or served yet."""
        if self.httpd is not None:
            return
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise OSError(errno.EINVAL, "the port must be a number from 0 to 65535")
        handler = type("Handler", (_Handler,), {"preview": self.preview})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), partial(handler, directory=str(self.out)))
        self.httpd.daemon_threads = True

    def start(self, *, wait: bool = True) -> None:
        """Open the port (an OSError when it cannot be had, before any build), then build in the
        background: the preview answers at once, "building…" until the first pages are written."""
        self.open()
        # Taken before the first build and before start() returns, so no edit can slip between.
        self._seen = snapshot(self.project)
        for target in (self.httpd.serve_forever, self._watch):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        if wait:
            self._first.wait()

    def run(self) -> None:
        """The preview of `speechgen serve`: the server answers from a process of its own (forked
        now, before any thread), so that this process has one thread and its builds render pages,
        Markdown and previews in worker processes as `speechgen build` does. Builds and watches
        here until `stop_soon()`; then `stop()`."""
        self.open()
        assert self.httpd is not None
        state = self.tmp / "state.json"
        self.preview.shared = state
        self.preview.version = self.preview.version         # the file exists before the server reads it
        parent = os.getpid()
        child = os.fork()
        if child == 0:                                      # the server: answers until the builder goes
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                self.httpd.RequestHandlerClass.func.preview = _SharedPreview(state, str(self.project))
                threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
                while os.getppid() == parent:
                    time.sleep(0.5)
            finally:
                os._exit(0)
        self._child = child
        self.httpd.server_close()                           # the child holds the socket now
        self._seen = snapshot(self.project)
        self._watch()

    def stop_soon(self) -> None:
        """Ask `run()` to end: the build stops at its next check."""
        self._stop.set()

    def _watch(self) -> None:
        """Poll, rebuild on a change. Whatever fails in one round (a folder that vanished, a name
        the terminal cannot print, a bug) is shown as the preview's error and logged once, and the
        next round runs as usual."""
        seen = self._seen
        try:
            self.rebuild(seen)           # an edit while the first PDFs are made stops them too
        finally:
            self._first.set()
        last_failure = None
        pause = self.interval
        while not self._stop.wait(pause):
            pause = self.interval
            try:
                now = snapshot(self.project)
                if now != seen:
                    changed = sorted(set(now.items()) ^ set(seen.items()))
                    names = ", ".join(_printable(name) for name in sorted({c[0] for c in changed})[:5])
                    self._say(f"Berubah / changed: {names}")
                    seen = now        # taken before the build: an edit made during it is seen next time
                    self._edited_again = False
                    self.rebuild(seen)
                    if self._edited_again:
                        pause = 0     # the edit that stopped it waits: no poll interval before its build
                elif last_failure is not None:          # recovered: show what the last build said
                    with self.preview.lock:
                        self.preview.errors = list(self._build_errors)
                last_failure = None
            except Exception as error:  # noqa: BLE001 - the watcher outlives any one failure
                message = _unexpected(error, self.project)
                with self.preview.lock:
                    self.preview.errors = [message]
                if message != last_failure:
                    self._say(message)
                last_failure = message

    def stop(self, timeout: float = 20.0, *, detach: bool = False) -> None:
        """Stop serving and building (a build stops at its next check: its workers are ended),
        then remove the preview's folder; with `detach` (the command: the terminal is back at
        once), by an `rm` of its own that outlives this process (an archive's preview is thousands
        of files: seconds of unlinks). Its name keeps this process's id, so a removal cut short
        is finished by the next preview's start (`clean_stale`)."""
        self._stop.set()
        if self._child is not None:
            with contextlib.suppress(OSError):
                os.kill(self._child, signal.SIGTERM)
                os.waitpid(self._child, 0)
            self._child = None
        elif self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        remover = shutil.which("rm") if detach else None
        if remover is not None:
            with contextlib.suppress(OSError):
                subprocess.Popen([remover, "-rf", "--", str(self.tmp)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                return
        shutil.rmtree(self.tmp, ignore_errors=True)


def _unexpected(error: Exception, project: Path) -> str:
    """One line for a failure no stage turned into a message: the file and the reason for a
    system error, the kind of error otherwise."""
    if isinstance(error, OSError):
        where = error.filename if isinstance(error.filename, str) else str(project)
        return f"{_printable(where)}: cannot build the preview: {error.strerror or error}"
    return (f"{project}: the preview could not be rebuilt ({type(error).__name__}: "
            f"{_printable(str(error))}); it keeps watching for changes")
