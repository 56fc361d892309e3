"""The long texts of a build (each speech's source and rendered body), kept by their SHA-256.

A model holds a text's digest, not the text: the most recent texts stay in memory up to a budget,
the rest wait in a private temporary folder (never in the project), so the build's memory does
not grow with the archive's words. Content-addressed, so threads and forked workers share it
safely; the folder is removed when the process ends.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

MEMORY_BUDGET = 16 * 1024 * 1024       # bytes of text kept in memory; the rest on disk


class Texts:
    def __init__(self, budget: int = MEMORY_BUDGET) -> None:
        self.budget = budget
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._size = 0
        self._folder: Path | None = None
        self._on_disk: set[str] = set()
        self._lock = threading.Lock()

    def put(self, text: str) -> str:
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._lock:
            if sha in self._memory:
                self._memory.move_to_end(sha)
            elif sha not in self._on_disk:
                self._remember(sha, text)
        return sha

    def get(self, sha: str) -> str:
        with self._lock:
            text = self._memory.get(sha)
            if text is not None:
                self._memory.move_to_end(sha)
                return text
            text = self._path(sha).read_bytes().decode("utf-8")
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
                # whole or not at all: a forked worker may read the folder at any moment
                fd, tmp = tempfile.mkstemp(dir=self._path(old_sha).parent, prefix=".part-")
                with os.fdopen(fd, "wb") as handle:
                    handle.write(old.encode("utf-8"))
                os.replace(tmp, self._path(old_sha))
                self._on_disk.add(old_sha)

    def _path(self, sha: str) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="speechgen-texts-"))
            atexit.register(shutil.rmtree, self._folder, True)
        return self._folder / sha


STORE = Texts()
