"""The Pagefind search index of the rendered speech pages: the only module that talks to Pagefind.

Only public speech pages go in (never copies, archives or the side-by-side view), each in its own
language's index. The build hands over the pages as files and a private scratch folder; the index
comes back as files there, which the build copies into the output. Without the `pagefind`
package the site is built without search, and the search page points readers to the archive
listings.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from speechgen.graph import Site

# Pagefind's browser UI, highlighter and playground are not used: the theme has its own small script.
_UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.",
           "playground/")


class SearchUnavailable(Exception):
    """The pagefind package or its binary is missing."""


def search_pages(site: Site) -> list[str]:
    """Output paths of the pages that go into the index: indexed speech pages only."""
    return [p.dest for p in site.pages if p.kind == "speech" and p.indexed]


def build_index(pages: Iterable[tuple[str, Path]], scratch: Path, bundle: str) -> list[tuple[str, Path]]:
    """Index the given pages (output path, file) into `scratch`; returns the index's files as
    (output path under `bundle`, file in scratch). Pages are linked in, never read into memory."""
    pages_dir, bundle_dir = scratch / "pages", scratch / "bundle"
    for dest, path in pages:
        target = pages_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    _run_async(lambda: _index(pages_dir, bundle_dir))
    made = []
    for path in sorted(bundle_dir.rglob("*")):
        rel = path.relative_to(bundle_dir).as_posix()
        if path.is_file() and not rel.startswith(_UNUSED):
            _stabilise(rel, path)
            made.append((f"{bundle}/{rel}", path))
    return made


def pagefind_version() -> str:
    try:
        return metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        return "none"


def _stabilise(name: str, path: Path) -> None:
    """The entry file lists languages in hash-map order: sort it, so a rebuild gives the same bytes."""
    if name != "pagefind-entry.json":
        return
    data = json.loads(path.read_bytes())
    path.write_bytes(json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def _run_async(make_coroutine):
    """asyncio.run, also when the caller's thread already runs an event loop (Jupyter, Playwright)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


async def _index(pages_dir: Path, bundle_dir: Path) -> None:
    """Two requests to the Pagefind service whatever the size of the site.

    Pagefind's service answers one message per 0.1 s and cannot return more than 2 MiB through
    `get_files()` (it hangs), so it indexes a folder of pages and writes its bundle to a folder.
    """
    try:
        from pagefind.index import PagefindIndex
    except ImportError as exc:
        raise SearchUnavailable("the 'pagefind' package is not installed "
                                "(pip install 'pagefind[extended]')") from exc
    pages_dir.mkdir(parents=True, exist_ok=True)
    try:
        # keep_index_url: results link to ".../index.html", which also opens from disk.
        async with PagefindIndex({"keep_index_url": True, "output_path": str(bundle_dir)}) as index:
            await index.add_directory(str(pages_dir))
    except (FileNotFoundError, PermissionError) as exc:
        raise SearchUnavailable(f"the pagefind binary could not start: {exc}") from exc
