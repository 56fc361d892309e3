"""The long texts of a build (each speech's source and rendered body), kept by their SHA-256.

A model holds a text's digest, not the text: the most recent texts stay in memory up to a budget,
the rest wait in a private temporary folder (never in the project), so the build's memory does
not grow with the archive's words. Each process appends the texts it sets aside to one file of
its own in that folder and remembers where each one starts: a forked worker reads its parent's
file by those places and appends to its own, so nothing is written twice and no file is shared
for writing. The folder is removed when the process ends.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

MEMORY_BUDGET = 16 * 1024 * 1024       # bytes of text kept in memory; the rest on disk


class Texts:
    def __init__(self, budget: int = MEMORY_BUDGET) -> None:
        self.budget = budget
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._size = 0
        self._folder: Path | None = None
        self._on_disk: dict[str, tuple[str, int, int]] = {}     # sha -> (file, offset, length)
        self._spill: tuple[int, str, int] | None = None          # (pid, file, its length) of this process
        self._lock = threading.Lock()
        self._loaders: dict[str, Callable[[], str]] = {}         # sha -> how to make the text

    def put(self, text: str) -> str:
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._lock:
            self._loaders.pop(sha, None)
            if sha in self._memory:
                self._memory.move_to_end(sha)
            elif sha not in self._on_disk:
                self._remember(sha, text)
        return sha

    def expect(self, sha: str, load: Callable[[], str]) -> str:
        """A text known only by its digest so far: `load` makes it when it is first asked for
        (and must give that very text)."""
        with self._lock:
            if sha not in self._memory and sha not in self._on_disk:
                self._loaders[sha] = load
        return sha

    def get(self, sha: str) -> str:
        with self._lock:
            text = self._memory.get(sha)
            if text is not None:
                self._memory.move_to_end(sha)
                return text
            load = self._loaders.get(sha) if sha not in self._on_disk else None
        if load is not None:
            text = load()
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:
                raise OSError("a text changed while the build was reading it")
            with self._lock:
                self._loaders.pop(sha, None)
                if sha not in self._memory:
                    self._remember(sha, text)
            return text
        with self._lock:
            name, offset, length = self._on_disk[sha]
            fd = os.open(name, os.O_RDONLY)
            try:
                data = os.pread(fd, length, offset)
            finally:
                os.close(fd)
            if len(data) != length:
                raise OSError(f"{name}: a text set aside during this build is cut short")
            text = data.decode("utf-8")
            self._remember(sha, text)
            return text

    def _remember(self, sha: str, text: str) -> None:
        """Keep a text in memory; the oldest ones go to disk (once) when over the budget."""
        self._memory[sha] = text
        self._size += len(text)
        while self._size > self.budget and len(self._memory) > 1:
            old_sha, old = self._memory.popitem(last=False)
            self._size -= len(old)
            if old_sha not in self._on_disk:
                self._on_disk[old_sha] = self._append(old.encode("utf-8"))

    def _append(self, data: bytes) -> tuple[str, int, int]:
        """Append to this process's own file; where the text now starts. Readers use only places
        already returned, so a text is whole before anyone looks for it."""
        pid = os.getpid()
        if self._spill is None or self._spill[0] != pid:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="speechgen-texts-"))
                atexit.register(shutil.rmtree, self._folder, True)
            self._spill = (pid, str(self._folder / f"spill-{pid}"), 0)
        _, name, offset = self._spill
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self._spill = (pid, name, offset + len(data))
        return name, offset, len(data)


STORE = Texts()
