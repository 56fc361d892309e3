"""Every worker pool of a build ends at once when stopped, even from a process (`serve`) whose
own SIGTERM handler only asks the build to stop: a worker busy when its pool is terminated must
not inherit that handler, go on and block writing a result no one reads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import speechgen

SCRIPT = textwrap.dedent("""
    import multiprocessing, signal, sys, time
    from speechgen import workers

    signal.signal(signal.SIGTERM, lambda *_: None)     # as serve's: only asks the build to stop
    signal.signal(signal.SIGINT, lambda *_: None)
    context = multiprocessing.get_context(sys.argv[1])
    make = workers.pool if sys.argv[2] == "workers" else (lambda c, n: c.Pool(n))
    with make(context, 2) as pool:
        busy = pool.map_async(time.sleep, [60, 60])
        time.sleep(1.0)                                 # both workers are in their task
        started = time.monotonic()
        pool.terminate()
        print(round(time.monotonic() - started, 2))
""")


def _terminate_takes(method: str, maker: str) -> float:
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT, method, maker], capture_output=True, text=True,
                              timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{method}: the terminated pool still waits on its workers after 30 s") from None
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


def test_a_pools_busy_workers_end_at_once_when_it_is_terminated() -> None:
    assert _terminate_takes("fork", "workers") < 5
    assert _terminate_takes("forkserver", "workers") < 5


STOPPED_MID_RENDER = textwrap.dedent("""
    import multiprocessing, sys, tempfile, time
    from speechgen import workers

    def render(_):
        tempfile.mkdtemp(prefix="weasyprint-")     # as WeasyPrint does for a render's fonts
        time.sleep(60)

    if __name__ == "__main__":
        with workers.pool(multiprocessing.get_context(sys.argv[1]), 2) as pool:
            busy = pool.map_async(render, [1, 2], chunksize=1)
            time.sleep(1.5)                         # both workers are in their render
            pool.terminate()
""")


def test_a_worker_stopped_in_the_middle_of_a_render_leaves_nothing_in_the_temporary_directory(
        tmp_path: Path) -> None:
    """A book's worker ended by its pool (a stopped build, a hung book) never reaches the end of
    its render, where WeasyPrint's folder would be removed: the pool's own folder goes instead."""
    script = tmp_path / "stopped.py"             # a file: a fork server's workers import `render` from it
    script.write_text(STOPPED_MID_RENDER)
    for method in ("fork", "forkserver"):
        scratch = tmp_path / method
        scratch.mkdir()
        done = subprocess.run([sys.executable, str(script), method], capture_output=True,
                              text=True, timeout=60,
                              env={**os.environ, "TMPDIR": str(scratch),
                                   "PYTHONPATH": str(Path(speechgen.__file__).parent.parent)})
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in scratch.iterdir()) == [], method


def test_every_pool_of_the_package_is_made_by_workers_pool() -> None:
    root = Path(speechgen.__file__).parent
    found = [f"{path.relative_to(root)}:{number}"
             for path in sorted(root.rglob("*.py")) if path.name != "workers.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\.Pool\(", line)]
    assert found == []


def test_workers_share_the_callers_memory_only_while_it_has_one_thread() -> None:
    """The pages' workers take the site from the build's memory (fork): offered while the
    process has one thread, never beside another (the preview server's build thread, the
    indexer's), where the pages are rendered in the process itself. Asked in a new interpreter:
    this test process may hold other tests' threads."""
    script = (
        "import threading\n"
        "from speechgen.workers import forked\n"
        "alone = forked()\n"
        "beside = threading.Event()\n"
        "thread = threading.Thread(target=beside.wait, daemon=True)\n"
        "thread.start()\n"
        "with_thread = forked()\n"
        "beside.set(); thread.join()\n"
        "print(alone is not None, with_thread is None, forked() is not None)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "True", "True"], result.stdout + result.stderr


def _pid(_item: int) -> int:
    return os.getpid()


def test_the_builds_own_work_goes_to_workers_even_beside_another_thread() -> None:
    """The previews are drawn while the search indexer's thread runs: a fork then could copy a
    lock that thread holds, so the workers come from a fork server; never drawn one by one here."""
    import threading

    from speechgen.workers import pooled_map

    beside = threading.Event()
    thread = threading.Thread(target=beside.wait, daemon=True)
    thread.start()
    try:
        pids = set(pooled_map(_pid, list(range(120)), 2))
    finally:
        beside.set()
        thread.join()
    assert os.getpid() not in pids and len(pids) >= 1


def test_the_previews_beside_the_search_indexer_are_drawn_in_the_builds_process(project: Path, monkeypatch) -> None:
    """While Pagefind indexes, the previews take one core in the build's own process (workers
    beside Pagefind took the tree past the memory target); without search, the build's jobs."""
    from speechgen import stages
    from speechgen.build import build
    from speechgen.cache import Cache
    from speechgen.config import load_config

    asked: list = []
    real = stages.pooled_map

    def recording(function, items, jobs, count=None):
        if function is stages._draw_preview:
            asked.append(jobs)
        return real(function, items, jobs, count)

    monkeypatch.setattr(stages, "pooled_map", recording)
    build(load_config(project), search=True, jobs=2, cache=Cache.disabled())
    assert asked == [1]
    asked.clear()
    build(load_config(project), search=False, jobs=2, cache=Cache.disabled())
    assert asked == [2]
