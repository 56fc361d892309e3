"""The search index stage: Pagefind bundles of the public speech pages, in shards (`Site.search_shards`).

A shard whose pages are all as it indexed them is put back as it was. A page changed or added
since is indexed again in the small recent bundle, and the shard's old entry for it is hidden,
until more than SEARCH_RECENT_MAX pages wait there: then their shards are indexed again. What is
to be indexed is made in a thread of its own while the build goes on, and put in by `finish()`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from speechgen import graph
from speechgen.errors import OutputError, Problem, SourceError
from speechgen.graph import Site
from speechgen.memo import Memo, recent_key, search_key
from speechgen.render import search

SEARCH_RECENT_MAX = 64      # pages changed since their shard was indexed, kept in the recent bundle


def search_plan(memo: Memo, site: Site) -> "SearchPlan":
    """The shards to index this build, the pages for the recent bundle and the entries to hide: a
    shard whose pages are all as it indexed them is put back as it was (its record: `memo.search_key`)."""
    writer = memo.writer
    version = search.pagefind_version()
    now = {d: writer.files[d][0] for shard in site.search_shards for d in shard.pages}
    plan = SearchPlan(version)
    kept: list = []         # (shard, its record, its pages changed since, its entries to hide)
    for shard in site.search_shards:
        record = memo.json_record("search", search_key(version, shard.dest), "pages", "files")
        if record is None:
            plan.shards.append(shard)
            continue
        indexed = record["pages"]
        changed = [d for d in shard.pages if indexed.get(d, ("",))[0] != now[d]]
        members = set(shard.pages)
        replaced = [d for d, (sha, _) in indexed.items() if d not in members or now[d] != sha]
        hide = [indexed[d][1] for d in replaced]
        if None in hide:                        # an entry without an id cannot be hidden
            plan.shards.append(shard)
        else:
            kept.append((shard, record, changed, hide))
    if sum(len(changed) + len(hide) for _, _, changed, hide in kept) > SEARCH_RECENT_MAX:
        plan.shards += [shard for shard, _, changed, hide in kept if changed or hide]
        kept = [k for k in kept if not (k[2] or k[3])]
    for shard, record, changed, hide in kept:
        if memo.put_back_all(record["files"]):
            plan.recent += changed
            plan.hidden.update(hide)
        else:
            plan.shards.append(shard)           # its files are lost: indexed again
    plan.shards.sort(key=lambda shard: shard.dest)
    plan.recent.sort()
    if plan.recent:
        plan.recent_entry = recent_key(version, ((d, now[d]) for d in plan.recent))
        record = memo.json_record("recent", plan.recent_entry, "files", "ids", "languages")
        if record is not None and memo.put_back_all(record["files"]):
            plan.recent_done = record
    return plan


@dataclass
class SearchPlan:
    """What the search index needs this build: the shards to index, the pages that go into the
    recent bundle (already put back when `recent_done`), and the shards' entries to hide."""

    version: str
    shards: list = dataclasses.field(default_factory=list)
    recent: list[str] = dataclasses.field(default_factory=list)
    recent_entry: str = ""
    recent_done: dict | None = None
    hidden: set[str] = dataclasses.field(default_factory=set)

    def jobs(self) -> list[tuple[str, tuple[str, ...]]]:
        """(bundle folder, pages) for each Pagefind run, in order."""
        jobs = [(shard.dest, shard.pages) for shard in self.shards]
        if self.recent and self.recent_done is None:
            jobs.append((graph.SEARCH_RECENT, tuple(self.recent)))
        return jobs


class Indexing:
    """The bundles to index, one Pagefind process after another in a thread (Pagefind is a process
    of its own, so the thread waits while the build's own work goes on). Used as a context
    manager: however the build ends, the thread is stopped after its current bundle and every
    scratch folder is removed."""

    def __init__(self, run, plan: SearchPlan | None) -> None:
        self.run = run
        self.plan = plan
        self.jobs = plan.jobs() if plan is not None else []
        self.made: list = []                  # (scratch, files, page ids) per job, in order
        self.cleaners: dict = {}              # scratch -> the process removing its pages' copies
        self.failed: BaseException | None = None
        self.stop = False
        self.thread = threading.Thread(target=self._index_all, name="speechgen-search", daemon=True) \
            if self.jobs else None
        if self.thread is not None:
            self.thread.start()

    @property
    def running(self) -> bool:
        """Pagefind runs are under way beside the build."""
        return self.thread is not None and self.thread.is_alive()

    def _index_all(self) -> None:
        """One Pagefind run after another. While a run is under way (on a core of its own), this
        thread reads the bundle of the run before and copies the pages of the run after, so a
        run waits for neither: the copies were a tenth of the runs' chain at the end of a cold
        build."""
        run = None
        try:
            scratch = self._prepare(0)
            for n, (bundle, _) in enumerate(self.jobs):
                if self._stopped():
                    return
                run = search.start_index(scratch)
                if n:
                    self._read_bundle(n - 1)
                following = self._prepare(n + 1) if n + 1 < len(self.jobs) else None
                files = search.finish_index(run, scratch, bundle)
                run = None
                self.made[n] = (scratch, files, None, None)
                self.cleaners[scratch] = _remove_beside(scratch / "pages")    # the copies Pagefind read
                scratch = following
            self._read_bundle(len(self.jobs) - 1)
        except BaseException as exc:      # handed to the build's own thread by finish()
            self.failed = exc
        finally:
            if run is not None:
                run.stop()

    def _stopped(self) -> bool:
        return self.stop or (self.run.cancel is not None and self.run.cancel())

    def _prepare(self, n: int) -> Path:
        """Job `n`'s scratch folder, its pages copied in as the indexer reads them."""
        writer = self.run.memo.writer
        scratch = Path(tempfile.mkdtemp(prefix=f".{writer.out.name}.tmp-search-", dir=writer.out.parent))
        self.made.append((scratch, None, None, None))
        search.copy_pages([(d, writer.path_of(d)) for d in self.jobs[n][1]], scratch)
        return scratch

    def _read_bundle(self, n: int) -> None:
        """The page ids and languages of job `n`'s finished bundle."""
        bundle = self.jobs[n][0]
        scratch, files, _, _ = self.made[n]
        self.made[n] = (scratch, files, search.page_ids(files, bundle), search.languages(files, bundle))

    def __enter__(self) -> "Indexing":
        return self

    def __exit__(self, *exc) -> None:
        self.stop = True
        if self.thread is not None:
            self.thread.join()
        for scratch, *_ in self.made:
            self._wait_cleaner(scratch)
            shutil.rmtree(scratch, ignore_errors=True)

    def _wait_cleaner(self, scratch: Path) -> None:
        cleaner = self.cleaners.pop(scratch, None)
        if cleaner is not None:
            cleaner.wait()

    def finish(self) -> None:
        """Wait for the bundles, put each one in the output (its record in the cache), and write
        the list of what the recent bundle replaces."""
        plan = self.plan
        if plan is None or not self.run.site.search_shards:
            return
        if self.thread is not None:
            self.thread.join()
        run, memo, writer = self.run, self.run.memo, self.run.memo.writer
        run.checkpoint()
        recent = plan.recent_done
        try:
            if self.failed is not None:
                raise self.failed
            for (bundle, pages), (scratch, made, ids, languages) in zip(self.jobs, self.made):
                kept = []
                for dest, path in made:        # moved in; kept in the output only (a bundle whose
                    if memo.store.shared:       # files are lost is indexed again), and in a CI's shared
                        data = path.read_bytes()   # cache too: restored without the output
                        memo.put("blob", hashlib.sha256(data).hexdigest(), data)
                    kept.append((dest, writer.adopt(dest, path)))
                self._wait_cleaner(scratch)
                shutil.rmtree(scratch, ignore_errors=True)
                if bundle == graph.SEARCH_RECENT:
                    recent = dict(files=kept, ids=sorted(set(ids.values())), languages=languages)
                    memo.put("recent", plan.recent_entry, json.dumps(recent).encode())
                else:
                    record = dict(files=kept, pages={d: (writer.files[d][0], ids.get(d)) for d in pages})
                    memo.put("search", search_key(plan.version, bundle), json.dumps(record).encode())
                memo.rendered += 1
        except (search.SearchUnavailable, OSError) as exc:
            folder = writer.out.parent
            if _full(folder):          # the indexer may leave empty files on a full disk, not fail
                raise OutputError(f"{folder}: cannot write the search index: no space left on the device") from None
            reason = exc if isinstance(exc, search.SearchUnavailable) else exc.strerror or exc
            raise SourceError([Problem(str(writer.out), None, f"cannot make the search index: {reason}")]) from None
        hidden = plan.hidden - set(recent["ids"] if recent else ())
        writer.write(graph.SEARCH_RECENT_LIST, json.dumps(
            dict(bundle="recent/" if recent else None, languages=recent["languages"] if recent else [],
                 hidden=sorted(hidden)),
            separators=(",", ":")).encode())
        first = run.site.search_shards[0].dest
        writer.write(graph.SEARCH_ENGINE, search.packed_engine(writer.path_of(f"{first}/{search.ENGINE}").read_bytes()))
        shards = sum(1 for bundle, _ in self.jobs if bundle != graph.SEARCH_RECENT)
        run.log(f"search index: {shards} of {len(run.site.search_shards)} shards re-indexed, "
                f"{len(plan.recent)} pages in the recent bundle")


def _remove_beside(folder: Path):
    """Remove `folder` in a process of its own, waited for only when its scratch folder goes: the
    pages' copies a Pagefind run has read are thousands of unlinks and rmdirs that wait on the
    disk (about 0.25 CPU-s and seconds of waiting for the 1,000-speech archive's 1,500 pages), so
    they go on beside the build, not at its end. None where there is no `rm`: the copies then go
    with their scratch folder."""
    rm = shutil.which("rm")
    if rm is None or not folder.is_dir():
        return None
    try:
        return subprocess.Popen([rm, "-rf", "--", str(folder)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None



def _full(folder: Path) -> bool:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 256 * 1024
