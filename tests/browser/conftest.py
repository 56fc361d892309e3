"""Browser tests: the sample project's site served on 127.0.0.1, read by Debian's chromium.

Nothing is downloaded: Playwright drives /usr/bin/chromium, axe-core comes from npm through
`.ci/setup --test`, and every request that would leave the local server is refused and recorded.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .browsing import ARTIFACTS, AXE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, ENGLISH_PATH, REPO, SUB_PATH, english_only_project


def _missing(reason: str):
    # On CI everything must be there (.ci/setup --test installs it): a skip would hide a gap.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The repository's own sample project, built once for all browser tests. Its few pages are
    spread over several search shards, so every search here merges shards as a large archive does."""
    from speechgen import graph
    from speechgen.build import build
    from speechgen.config import load_config

    out = tmp_path_factory.mktemp("browser") / "site"
    pages_per_shard, graph.SHARD_PAGES = graph.SHARD_PAGES, 2
    try:
        build(load_config(REPO), out=out)
    finally:
        graph.SHARD_PAGES = pages_per_shard
    assert len([p for p in (out / "pagefind").iterdir() if p.is_dir()]) >= 2
    return out


@pytest.fixture(scope="session")
def manifest(built_site: Path) -> dict:
    return json.loads((built_site / "manifest.json").read_text())


@pytest.fixture(scope="session")
def english_site(tmp_path_factory) -> Path:
    """A project with `languages = ["en"]` (tests/browser/browsing.py), built once."""
    from speechgen.build import build
    from speechgen.config import load_config

    project = english_only_project(tmp_path_factory.mktemp("english") / "project")
    build(load_config(project), out=project / "site")
    return project / "site"


class _Handler(SimpleHTTPRequestHandler):
    """A plain static host: files under sub_path, its 404.html for anything missing."""

    sub_path = SUB_PATH

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if not path.startswith(self.sub_path):
            return str(Path(self.directory) / "does-not-exist")
        return super().translate_path("/" + path[len(self.sub_path):])

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class _Host(ThreadingHTTPServer):
    """A browser that closes a page while a file is on its way (a test ending as soon as it has
    what it checks) is no error of the site's: said nowhere, as a static host says nothing."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _serve(folder: Path, sub_path: str):
    handler = functools.partial(type("Handler", (_Handler,), {"sub_path": sub_path}), directory=str(folder))
    httpd = _Host(("127.0.0.1", 0), handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{sub_path}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def server(built_site: Path):
    yield from _serve(built_site, SUB_PATH)


@pytest.fixture(scope="session")
def english_server(english_site: Path):
    yield from _serve(english_site, ENGLISH_PATH)


@pytest.fixture(scope="package")
def browser():
    """One chromium for the browser tests, closed when they end: Playwright's synchronous API
    runs an event loop in this thread while it is open, which later tests' asyncio.run refuses."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (bash .ci/setup --test)")
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} is missing (bash .ci/setup --test)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        _missing(f"{AXE.relative_to(REPO)} is missing (bash .ci/setup --test installs axe-core)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Visits:
    """Opens pages in fresh contexts; every request to another host is refused and remembered."""

    def __init__(self, browser, server: str) -> None:
        self.browser, self.server = browser, server
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(server))
        self.foreign: list[str] = []
        self.contexts: list = []

    def page(self, viewport=DESKTOP, **options):
        context = self.browser.new_context(viewport=viewport, accept_downloads=True, **options)
        self.contexts.append(context)
        context.route("**/*", self._route)
        return context.new_page()

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def open(self, dest: str, viewport=DESKTOP, **options):
        page = self.page(viewport, **options)
        response = page.goto(self.server + dest, wait_until="load")
        assert response is not None
        page.evaluate("document.fonts.ready.then(() => true)")   # laid out in its own fonts, not mid-swap
        return page, response

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _visiting(browser, server: str):
    """Visits to one served site; afterwards, no request may have left it."""
    visits = Visits(browser, server)
    yield visits
    visits.close()
    assert visits.foreign == [], f"requests left the local server: {visits.foreign}"


@pytest.fixture
def visit(browser, server):
    yield from _visiting(browser, server)


ARCHIVE_PATH = "/"


@pytest.fixture(scope="session")
def archive_site(tmp_path_factory) -> Path:
    """A generated archive of 1,000 speeches, each in a year of its own (every listing's worst
    case), HTML only."""
    from speechgen.build import build
    from speechgen.cache import Cache
    from speechgen.config import load_config

    root = tmp_path_factory.mktemp("archive1000") / "project"
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text('[site]\ntitle = "Arsip Seribu"\nbase_url = "https://arsip.example.go.id/"\n'
                                         'publisher = "Sekretariat Uji"\n[pdf]\nenabled = false\n')
    for n in range(1000):
        year = 1026 + n
        folder = root / "speeches" / str(year)
        folder.mkdir()
        (folder / f"pidato-{n}.id.md").write_text(
            f"---\ntitle: Pidato Nomor {n}\nspeaker: Pembicara {n // 10}\ndate: {year}-08-17\n"
            f"occasion: Acara {n % 25}\n---\n\nIsi pidato {n}.\n")
    build(load_config(root), search=False, cache=Cache.disabled())
    return root / "site"


@pytest.fixture(scope="session")
def archive_server(archive_site: Path):
    yield from _serve(archive_site, ARCHIVE_PATH)


@pytest.fixture
def visit_archive(browser, archive_server):
    yield from _visiting(browser, archive_server)


@pytest.fixture
def visit_english(browser, english_server):
    """Visits to the English-only site."""
    yield from _visiting(browser, english_server)


EDITED_PATH = "/"
EDITED_SPEECHES = 12


@pytest.fixture(scope="session")
def edited_site(tmp_path_factory) -> Path:
    """12 speeches that all say "irigasi", over several search shards, built; then one speech's
    body edited ("zamrudlama" becomes "safirbaru") and built again, so the edit is in the search
    index's recent bundle and its shard's old entry is hidden."""
    from speechgen import graph
    from speechgen.build import build
    from speechgen.config import load_config

    root = tmp_path_factory.mktemp("edited") / "project"
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text('[site]\ntitle = "Arsip Suntingan"\nbase_url = "https://arsip.example.go.id/"\n'
                                         'publisher = "Sekretariat Uji"\n[pdf]\nenabled = false\n')
    for n in range(EDITED_SPEECHES):
        folder = root / "speeches" / str(2000 + n)
        folder.mkdir()
        (folder / f"pidato-{n}.id.md").write_text(
            f"---\ntitle: Pidato Nomor {n}\nspeaker: Pembicara Uji\ndate: {2000 + n}-08-17\n"
            f"occasion: Acara Uji\n---\n\nIrigasi desa nomor {n}.{' Kata zamrudlama.' if n == 3 else ''}\n")
    pages_per_shard, graph.SHARD_PAGES = graph.SHARD_PAGES, 4
    try:
        build(load_config(root))
        source = root / "speeches" / "2003" / "pidato-3.id.md"
        source.write_text(source.read_text().replace("zamrudlama", "safirbaru"))
        build(load_config(root))
    finally:
        graph.SHARD_PAGES = pages_per_shard
    listed = json.loads((root / "site" / "pagefind" / "recent.json").read_text())
    assert listed["bundle"] == "recent/" and len(listed["hidden"]) == 1
    return root / "site"


@pytest.fixture(scope="session")
def edited_server(edited_site: Path):
    yield from _serve(edited_site, EDITED_PATH)


@pytest.fixture
def visit_edited(browser, edited_server):
    yield from _visiting(browser, edited_server)
