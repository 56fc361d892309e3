"""The Pagefind search index, built in memory from the rendered speech pages.

Only public speech pages go in (never copies, archives or the side-by-side view), each in
its own language's index. The files come back as Artifacts under `pagefind/`, so the writer
puts them in place with everything else (the indexer itself works in a private scratch folder). Without the `pagefind` package the site is built
without search, and the search page points readers to the archive listings.
"""

from __future__ import annotations

import asyncio
import base64
import json
from importlib import metadata
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from speechgen.cache import Cache, key as cache_key
from speechgen.graph import Site
from speechgen.model import Artifact

BUNDLE = "pagefind"
# Pagefind's browser UI, highlighter and playground are not used: the theme has its own small script.
_UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.",
           "playground/")


class SearchUnavailable(Exception):
    """The pagefind package or its binary is missing."""


def search_pages(site: Site) -> list[str]:
    """Output paths of the pages that go into the index: indexed speech pages only."""
    return [p.dest for p in site.pages if p.kind == "speech" and p.indexed]


def render_search_index(site: Site, artifacts: Iterable[Artifact],
                        log: Callable[[str], None] = lambda message: None) -> list[Artifact]:
    """Index the rendered HTML of the speech pages; [] (and a log line) without pagefind."""
    wanted = set(search_pages(site))
    pages = [(a.dest, a.data.decode("utf-8")) for a in artifacts if a.dest in wanted]
    # The index is a function of the pages it reads: an unchanged site reuses the last one.
    store = Cache(site.config.root, "search")
    entry = cache_key("search", _pagefind_version(), *(f"{dest}\0{html}" for dest, html in pages))
    hit = store.get(entry)
    if hit is not None:
        out = [Artifact(dest, base64.b64decode(data)) for dest, data in json.loads(hit)]
        log(f"search index: {len(pages)} pages, {len(out)} files (unchanged)")
        return out
    try:
        files = _run_async(lambda: _index(pages))
    except SearchUnavailable as exc:
        log(f"search index skipped: {exc}")
        return []
    out = [Artifact(f"{BUNDLE}/{path}", _stable(path, content)) for path, content in files
           if not path.startswith(_UNUSED)]
    out.sort(key=lambda a: a.dest)
    store.put(entry, json.dumps([(a.dest, base64.b64encode(a.data).decode()) for a in out]).encode())
    log(f"search index: {len(pages)} pages, {len(out)} files")
    return sorted(out, key=lambda a: a.dest)


def _pagefind_version() -> str:
    try:
        return metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        return "none"


def _stable(path: str, content: bytes) -> bytes:
    """The entry file lists languages in hash-map order: sort it, so a rebuild gives the same bytes."""
    if path != "pagefind-entry.json":
        return content
    data = json.loads(content)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _run_async(make_coroutine):
    """asyncio.run, also when the caller's thread already runs an event loop (Jupyter, Playwright)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


async def _index(pages: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """Two requests to the Pagefind service whatever the size of the site.

    Pagefind's service answers one message per 0.1 s and cannot return more than 2 MiB through
    `get_files()` (it hangs), so the pages go through a private scratch folder instead: written
    there, indexed as one directory, the bundle written beside them and read back. The output
    folder is never touched; the scratch folder is removed.
    """
    try:
        from pagefind.index import PagefindIndex
    except ImportError as exc:
        raise SearchUnavailable("the 'pagefind' package is not installed "
                                "(pip install 'pagefind[extended]')") from exc
    with tempfile.TemporaryDirectory(prefix="speechgen-search-") as scratch:
        pages_dir, bundle_dir = Path(scratch, "pages"), Path(scratch, "bundle")
        for dest, html_text in pages:
            target = pages_dir / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html_text, encoding="utf-8")
        try:
            # keep_index_url: results link to ".../index.html", which also opens from disk.
            async with PagefindIndex({"keep_index_url": True, "output_path": str(bundle_dir)}) as index:
                await index.add_directory(str(pages_dir))
        except (FileNotFoundError, PermissionError) as exc:
            raise SearchUnavailable(f"the pagefind binary could not start: {exc}") from exc
        return [(path.relative_to(bundle_dir).as_posix(), path.read_bytes())
                for path in sorted(bundle_dir.rglob("*")) if path.is_file()]
