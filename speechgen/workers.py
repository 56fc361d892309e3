"""Worker processes for the build's CPU work (pages, previews, Markdown): forked, and only when
there is enough to pay for them and this process has one thread."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def pooled_map(function, items: Iterable, jobs: int | None, count: int | None = None) -> Iterator:
    """`function` over `items` in order: in forked workers when there are enough to pay for them
    (`count` of them, when `items` is an iterator, which the workers then take as they go)."""
    workers = min(jobs or cores(), (len(items) if count is None else count) // 50)  # type: ignore[arg-type]
    if workers < 2 or not can_fork():
        yield from map(function, items)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(function, items, chunksize=8)


def cores() -> int:
    from speechgen.render.pdf import usable_cores    # lazy, as every PDF import

    return usable_cores()


def can_fork() -> bool:
    """fork only while this process has one thread: a fork copies no lock another thread holds
    (the preview server builds in a thread: it renders here)."""
    import multiprocessing
    import threading

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
