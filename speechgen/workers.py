"""Worker processes: every pool a build starts (books, card sheets, pages, Markdown, previews).

A worker forked from the build's process inherits its Python signal handlers: under `serve`,
SIGTERM and SIGINT only ask the build to stop. A pool's `terminate()` ends its workers with
SIGTERM, so a worker busy with a book would go on, then block writing its result to a pipe no one
reads any more, and the build would wait on it for good. Each worker therefore starts by
restoring SIGTERM's default (it ends at once) and ignoring SIGINT: the process that owns the pool
hears Ctrl+C and stops its workers itself.
"""

from __future__ import annotations

import signal


def pool(context, workers: int, **options):
    """`context.Pool(workers, **options)` whose workers end on SIGTERM and ignore SIGINT."""
    return context.Pool(workers, initializer=_plain_signals, **options)


def _plain_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
