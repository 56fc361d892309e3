"""Worker processes: every pool a build starts (books, card sheets, pages, Markdown, previews).

A worker forked from the build's process inherits its Python signal handlers: under `serve`,
SIGTERM and SIGINT only ask the build to stop. A pool's `terminate()` ends its workers with
SIGTERM, so a worker busy with a book would go on, then block writing its result to a pipe no one
reads any more, and the build would wait on it for good. Each worker therefore starts by
restoring SIGTERM's default (it ends at once) and ignoring SIGINT: the process that owns the pool
hears Ctrl+C and stops its workers itself.

The build's own CPU work (pages, previews, Markdown) goes to workers only when there is enough to
pay for them (`pooled_map`). Workers are forked while this process has one thread; with other
threads running (the preview server, a test browser) a
fork could copy a lock another thread holds and hang the worker, so a fork server, a fresh
single-threaded process, forks them instead (`context`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator


@contextlib.contextmanager
def pool(context, workers: int, **options) -> Iterator:
    """`context.Pool(workers, **options)`, terminated on exit, whose workers end on SIGTERM,
    ignore SIGINT and keep their temporary files in a folder of the pool's own, removed once the
    workers are gone: a worker stopped in the middle of a render (a stopped build, a hung book)
    leaves nothing in the temporary directory (WeasyPrint removes the folder it copies fonts
    into only when a render ends)."""
    folder = tempfile.mkdtemp(prefix="speechgen-workers-")
    try:
        with context.Pool(workers, initializer=_worker_start, initargs=(folder,), **options) as made:
            yield made
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _worker_start(folder: str) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tempfile.tempdir = folder


def pooled_map(function, items: Iterable, jobs: int | None, count: int | None = None) -> Iterator:
    """`function` over `items` in order: in workers (`context`) when there are enough to pay for
    them (`count` of them, when `items` is an iterator, which the workers then take as they go)."""
    workers = min(jobs or cores(), (len(items) if count is None else count) // 50)  # type: ignore[arg-type]
    if workers < 2:
        yield from map(function, items)
        return
    with pool(context(function.__module__), workers) as workers_pool:
        yield from workers_pool.imap(function, items, chunksize=8)


def context(preload: str):
    """Where workers come from: fork while this process has one thread (they start at once and
    the calling script needs no `__main__` guard); else a fork server that has imported `preload`
    (the module of what the workers run); spawn where neither exists."""
    import multiprocessing

    if can_fork():
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload([preload])
        return server
    return multiprocessing.get_context("spawn")


def forked():
    """The fork context, for workers that take the caller's state from its memory (the pages'
    site and templates); None while this process cannot fork safely (`can_fork`)."""
    import multiprocessing

    return multiprocessing.get_context("fork") if can_fork() else None


def cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """fork only while this process has one thread: a fork copies no lock another thread holds
    (the preview server builds in a thread: it renders here)."""
    import multiprocessing
    import threading

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
