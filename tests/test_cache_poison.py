"""A cache folder or key file that someone else can write must not hang, fill or feed the build:
an entry that is a link (to /dev/zero), a FIFO, a folder or larger than any output is a miss, and
a key file that is not a key is replaced, or, when a folder holds its place, the build runs
without a cache and says so."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechgen import cache as cache_module
from speechgen.cache import Cache, key_path
from speechgen.cli import main

ENTRY = "ab" * 32


def _answer_within(call, seconds: float = 5.0):
    """What `call()` returns, asserting it returns at all (a FIFO or /dev/zero would not)."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the cache hung on a poisoned entry"
    return box[0]


@pytest.fixture
def store(tmp_path: Path, monkeypatch) -> Cache:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return Cache(tmp_path / "cache")


def _entry_path(store: Cache) -> Path:
    path = Path(store._path("page", ENTRY))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_good_entry_is_read_back(store: Cache) -> None:
    store.put("page", ENTRY, b"<p>ok</p>")
    assert store.get("page", ENTRY) == b"<p>ok</p>" and store.has("page", ENTRY)


@pytest.mark.parametrize("poison", ["device-link", "fifo", "folder", "oversize", "link-to-good"])
def test_a_poisoned_entry_is_a_miss_and_never_hangs(store: Cache, poison: str, monkeypatch) -> None:
    path = _entry_path(store)
    if poison == "device-link":
        path.symlink_to("/dev/zero")
    elif poison == "fifo":
        os.mkfifo(path)
    elif poison == "folder":
        path.mkdir()
    elif poison == "oversize":
        monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", 1024)
        with open(path, "wb") as handle:
            handle.truncate(10 * 1024 * 1024)
    else:                                   # a link to an entry that would verify: still not read
        store.put("page", ENTRY, b"x")
        path.rename(path.with_name("elsewhere"))
        path.symlink_to(path.with_name("elsewhere"))
    assert _answer_within(lambda: store.get("page", ENTRY)) is None
    assert store.has("page", ENTRY) is (poison == "oversize")      # only a regular file counts as there


@pytest.mark.parametrize("poison", ["fifo", "device-link", "short"])
def test_a_key_file_that_is_not_a_key_is_replaced(tmp_path: Path, monkeypatch, poison: str) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = key_path()
    path.parent.mkdir(parents=True)
    if poison == "fifo":
        os.mkfifo(path)
    elif poison == "device-link":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(b"short")
    store = _answer_within(lambda: Cache(tmp_path / "cache"))
    assert store.folder is not None and store.warning == ""
    assert path.is_file() and not path.is_symlink() and len(path.read_bytes()) == 32
    store.put("page", ENTRY, b"kept")
    assert store.get("page", ENTRY) == b"kept"


def test_a_folder_in_the_keys_place_leaves_the_build_uncached_and_says_so(project: Path, tmp_path: Path,
                                                                           monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    key_path().mkdir(parents=True)
    result = _answer_within(lambda: CliRunner().invoke(main, ["build", str(project), "--no-search"]), 120)
    assert result.exit_code == 0, result.output
    assert "cache.key: bukan berkas kunci / not a key file but a folder" in result.output
    assert (project / "site/index.html").is_file()
