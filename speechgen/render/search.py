"""The Pagefind search index of the rendered speech pages: the only module that talks to Pagefind.

Only public speech pages go in (never copies, archives or the side-by-side view), each in its own
language's index, spread over shards (the graph's `search_shards`) that the browser merges at
query time. A page changed since its shard was indexed goes into a small "recent" bundle instead,
merged too, and `recent.json` names the shard entries it replaces (by Pagefind's page id, the name
of the page's fragment), so an edit re-indexes a few pages rather than a shard. The build hands over
pages as files and a private scratch folder; the Pagefind command writes the bundle there, and the
build moves it into the output. Without the `pagefind`
package the site is built without search, and the search page points readers to the archive
listings.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
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
    the index's files as (output path under `bundle`, file in scratch). The three steps one after
    another; the build's indexer overlaps them (`indexing.py`)."""
    copy_pages(pages, scratch)
    return finish_index(start_index(scratch), scratch, bundle)


def copy_pages(pages: Iterable[tuple[str, Path]], scratch: Path) -> None:
    """The pages (output path, file) as the indexer reads them, in `scratch`/pages: each read in
    turn and written without its ids (`indexed_copy`)."""
    pages_dir = scratch / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    made_dirs: set[Path] = set()
    for dest, path in pages:
        target = pages_dir / dest
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
        target.write_bytes(indexed_copy(path.read_bytes()))


def start_index(scratch: Path) -> "Run":
    """The Pagefind command started on `scratch`/pages (`copy_pages`), writing `scratch`/bundle."""
    if not available():
        raise SearchUnavailable("the 'pagefind' package is not installed (pip install 'pagefind[extended]')")
    # keep-index-url: results link to ".../index.html", which also opens from disk.
    command = [*indexer(), "--site", str(scratch / "pages"), "--output-path", str(scratch / "bundle"),
               "--keep-index-url", "--silent"]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    except OSError as exc:               # PAGEFIND_BINARY_PATH naming no program, say
        raise SearchUnavailable(f"the pagefind binary could not be run: {exc.strerror or exc}") from None
    return Run(process, time.monotonic() + INDEX_TIMEOUT)


@dataclass
class Run:
    """A Pagefind run under way, and when it must have ended."""
    process: subprocess.Popen
    deadline: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def finish_index(run: Run, scratch: Path, bundle: str) -> list[tuple[str, Path]]:
    """Wait for a run (`start_index`); the index's files as (output path under `bundle`, file in
    scratch)."""
    try:
        stdout, stderr = run.process.communicate(timeout=max(0.0, run.deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        run.stop()
        raise SearchUnavailable(f"the indexer took longer than {INDEX_TIMEOUT} s") from None
    if run.process.returncode != 0:
        reason = (stderr or stdout).strip().splitlines()
        raise SearchUnavailable(f"the pagefind binary failed: {reason[-1] if reason else run.process.returncode}")
    made = []
    bundle_dir = scratch / "bundle"
    for path in sorted(bundle_dir.rglob("*")):
        rel = path.relative_to(bundle_dir).as_posix()
        if path.is_file() and not rel.startswith(_UNUSED):
            try:
                _stabilise(rel, path)
            except ValueError:
                raise SearchUnavailable(f"the indexer wrote an unreadable {rel}") from None
            made.append((f"{bundle}/{rel}", path))
    return made


# Pagefind makes every element with an id inside the indexed body an "anchor" and keeps its whole
# text beside the page's: each numbered paragraph (p-N) twice, in the indexer's memory and in the
# page's fragment that a result fetches. The reader uses no anchors (a result opens its page), so
# the indexer gets each page without its id attributes: about a tenth less memory, CPU and fragment.
# Our pages write attributes with double quotes, and escape a double quote in a text or value.
_ID_ATTRIBUTE = re.compile(rb'\sid="[^"]*"')


def indexed_copy(page: bytes) -> bytes:
    """The page as the indexer gets it: the same words, without id attributes."""
    return _ID_ATTRIBUTE.sub(b"", page)


INDEX_TIMEOUT = 600
ENGINE = "pagefind.js"           # a bundle's script: the same file in every bundle


def packed_engine(script: bytes) -> bytes:
    """Pagefind's script as the search page fetches it: gzip-compressed (46 KB to 13 KB), for the
    hosts that send files as they are (an object store) and unpacked in the browser. No time in
    the header: a rebuild gives the same bytes."""
    return gzip.compress(script, compresslevel=9, mtime=0)
_SIGNATURE = b"pagefind_dcd"     # what Pagefind puts before a decompressed file's data


def languages(made: list[tuple[str, Path]], bundle: str) -> list[str]:
    """The languages a bundle just made has an index for, from its entry file."""
    for dest, path in made:
        if dest == f"{bundle}/pagefind-entry.json":
            try:
                return sorted(json.loads(path.read_bytes())["languages"])
            except (OSError, ValueError, KeyError, TypeError):
                break
    raise SearchUnavailable(f"the indexer wrote no readable {bundle}/pagefind-entry.json")


def page_ids(made: list[tuple[str, Path]], bundle: str) -> dict[str, str]:
    """Pagefind's id of each page in a bundle just made, by the page's output path: the name of
    the page's fragment, which holds the page's URL. The reader hides a replaced page by this id."""
    ids = {}
    prefix = f"{bundle}/fragment/"
    for dest, path in made:
        if dest.startswith(prefix) and dest.endswith(".pf_fragment"):
            try:
                data = gzip.decompress(path.read_bytes())
                if not data.startswith(_SIGNATURE):
                    raise ValueError
                url = json.loads(data[len(_SIGNATURE):])["url"]
            except (OSError, ValueError, KeyError, TypeError):
                raise SearchUnavailable(f"the indexer wrote an unreadable {dest}") from None
            ids[url.lstrip("/")] = dest[len(prefix):-len(".pf_fragment")]
    return ids


@functools.cache
def indexer() -> tuple[str, ...]:
    """The Pagefind command: the binary the pagefind package finds (`get_executable`, the same
    one its `python -m pagefind` launcher execs, `PAGEFIND_BINARY_PATH` first), run directly; the
    launcher only if the package finds none. The launcher's Python start-up was 60 ms of every
    shard's run, and the shards run one after another at the end of a cold build."""
    try:
        from pagefind.service import get_executable
        found = get_executable()
    except (ImportError, OSError):
        found = None
    return (str(found),) if found is not None else (sys.executable, "-m", "pagefind")


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
