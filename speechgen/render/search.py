"""The Pagefind search index of the rendered speech pages: the only module that talks to Pagefind.

Only public speech pages go in (never copies, archives or the side-by-side view), each in its own
language's index, spread over shards (the graph's `search_shards`) that the browser merges at
query time: an edit re-indexes one shard. The build hands over a shard's pages as files and a
private scratch folder; the Pagefind command writes the shard's bundle there, and the build copies
it into the output. Without the `pagefind`
package the site is built without search, and the search page points readers to the archive
listings.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
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
    """Index the given pages (output path, file) into `scratch` with the Pagefind command; returns
    the index's files as (output path under `bundle`, file in scratch). Pages are linked in, never
    read into memory."""
    pages_dir, bundle_dir = scratch / "pages", scratch / "bundle"
    pages_dir.mkdir(parents=True, exist_ok=True)
    for dest, path in pages:
        target = pages_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    if not available():
        raise SearchUnavailable("the 'pagefind' package is not installed (pip install 'pagefind[extended]')")
    # keep-index-url: results link to ".../index.html", which also opens from disk.
    command = [sys.executable, "-m", "pagefind", "--site", str(pages_dir), "--output-path", str(bundle_dir),
               "--keep-index-url", "--silent"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=INDEX_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SearchUnavailable(f"the indexer took longer than {INDEX_TIMEOUT} s") from None
    if result.returncode != 0:
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise SearchUnavailable(f"the pagefind binary failed: {reason[-1] if reason else result.returncode}")
    made = []
    for path in sorted(bundle_dir.rglob("*")):
        rel = path.relative_to(bundle_dir).as_posix()
        if path.is_file() and not rel.startswith(_UNUSED):
            try:
                _stabilise(rel, path)
            except ValueError:
                raise SearchUnavailable(f"the indexer wrote an unreadable {rel}") from None
            made.append((f"{bundle}/{rel}", path))
    return made


INDEX_TIMEOUT = 600


def available() -> bool:
    """The pagefind package (which carries the indexer) is installed."""
    return importlib.util.find_spec("pagefind") is not None


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
