"""A build of an unchanged project stops before reading a source, and only then.

The last build into an output records one digest over everything it read (settings, config,
code, every input file's path, size, stamps and inode) with the output's own record. The next
build with the same digest, into an output still as that build left it, stops at once. Files
changed less than `RACY_NS` ago are not trusted by their stamps: the tests set it to 0, so that
builds seconds apart may stop early, and prove that every kind of change still builds.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import copy_project, search_view, tree_bytes
from speechgen import memo as memo_module
from speechgen import reader
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config
from speechgen.writer import MARKER


@pytest.fixture(autouse=True)
def _trust_fresh_stamps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo_module, "RACY_NS", 0)


def published(folder: Path) -> dict[str, bytes]:
    return search_view({k: v for k, v in tree_bytes(folder).items() if k != MARKER})


def clean(project: Path, tmp: Path) -> dict[str, bytes]:
    """The same project copied and built with no cache and no record: the reference."""
    fresh = tmp / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("site", ".site*"))
    out = tmp / "fresh-site"
    shutil.rmtree(out, ignore_errors=True)
    build(load_config(fresh), out=out, cache=Cache.disabled())
    return published(out)


def count_reading(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a build read the sources from here on."""
    calls = [0]
    original = reader.read_project

    def read_project(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)
    monkeypatch.setattr(reader, "read_project", read_project)
    return calls


def refuse_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that reads a source from here on fails the test."""
    def read_project(*args, **kwargs):
        raise AssertionError("the build read the sources")
    monkeypatch.setattr(reader, "read_project", read_project)


@pytest.fixture
def built(tmp_path: Path):
    project = copy_project(tmp_path / "project")
    report = build(load_config(project))
    assert not report.unchanged and report.rendered > 0
    return project, report


def test_unchanged_project_stops_before_reading(built, monkeypatch: pytest.MonkeyPatch) -> None:
    project, first = built
    before = tree_bytes(project / "site")
    stamps = {p: p.stat().st_mtime_ns for p in (project / "site").rglob("*")}
    refuse_reading(monkeypatch)
    again = build(load_config(project))
    assert again.unchanged and again.rendered == 0
    # the same report as the build that did the work, and the output untouched
    for field in ("speeches", "pages", "files", "bytes", "copies", "unreleased", "drafts"):
        assert getattr(again, field) == getattr(first, field), field
    assert tree_bytes(project / "site") == before
    assert {p: p.stat().st_mtime_ns for p in (project / "site").rglob("*")} == stamps


def _same_size_same_time(path: Path) -> None:
    """Change a byte of the file, keeping its size and modification time: only its change time
    (and the inode, for an editor that saves a new file) tells."""
    info = path.stat()
    data = bytearray(path.read_bytes())
    at = data.rindex(b"a", data.find(b"\n---", 4) if path.suffix == ".md" else 0)
    data[at:at + 1] = b"o"
    path.write_bytes(bytes(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _published_speech(project: Path) -> Path:
    return next(p for p in sorted((project / "speeches").rglob("*.md"))
                if "status: draft" not in p.read_text(encoding="utf-8"))


def _first_speech(project: Path) -> Path:
    return sorted((project / "speeches").rglob("*.md"))[0]


EDITS = {
    "speech, same size and time": lambda p: _same_size_same_time(_published_speech(p)),
    "speech added": lambda p: (p / "speeches" / "2024").mkdir(exist_ok=True) or (
        p / "speeches" / "2024" / "baru.id.md").write_text(
            "---\ntitle: Pidato Baru\nspeaker: Contoh\ndate: 2024-01-02\noccasion: Uji\nplace: Jakarta\n"
            "language: id\n---\n\nIsi pidato baru.\n", encoding="utf-8"),
    "speech removed": lambda p: _first_speech(p).unlink(),
    "template": lambda p: (p / "templates").mkdir() or (p / "templates" / "robots.txt").write_text(
        "User-agent: *\nDisallow: /\n", encoding="utf-8"),
    "static file": lambda p: (p / "static" / "extra.txt").write_text("x", encoding="utf-8"),
    "recipients": lambda p: _same_size_same_time(p / "recipients.yaml"),
    "config": lambda p: _same_size_same_time(p / "speechgen.toml"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_every_change_builds(built, tmp_path: Path, edit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, first = built
    EDITS[edit](project)
    reads = count_reading(monkeypatch)
    report = build(load_config(project))
    assert reads[0] == 1
    assert published(project / "site") == clean(project, tmp_path)
    if edit == "speech removed":                 # the first source is the fixture's draft
        assert first.drafts and not report.drafts


def test_other_settings_build(built, monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = built
    reads = count_reading(monkeypatch)
    build(load_config(project), search=False)
    assert reads[0] == 1                         # other settings: another output, built
    build(load_config(project), search=False)
    assert reads[0] == 1


def test_signing_key_in_the_environment_is_read(built, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key the environment names is an input: naming another one builds (and a build with
    a certificate configured would check it), even with every file as it was."""
    project, _ = built
    reads = count_reading(monkeypatch)
    monkeypatch.setenv("SPEECHGEN_SIGNING_KEY", str(project.parent / "another-key.p12"))
    build(load_config(project))
    assert reads[0] == 1
    build(load_config(project))
    assert reads[0] == 1                         # and recorded with it


def _page_edited(site: Path) -> None:
    page = site / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<script>x</script></body>"))


HAND_EDITS = {
    "page edited": _page_edited,
    "file removed": lambda site: (site / "index.html").unlink(),
    "folder removed": lambda site: shutil.rmtree(site / "tahun"),
}


@pytest.mark.parametrize("edit", sorted(HAND_EDITS))
def test_output_changed_by_hand_is_built_again(built, monkeypatch: pytest.MonkeyPatch, edit: str) -> None:
    project, _ = built
    before = published(project / "site")
    HAND_EDITS[edit](project / "site")
    reads = count_reading(monkeypatch)
    build(load_config(project))
    assert reads[0] == 1
    assert published(project / "site") == before


def test_forged_record_is_not_trusted(built, monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = built
    store = Cache.for_project(project)
    folder = store.folder / "unchanged"
    entries = [p for p in folder.rglob("*") if p.is_file()]
    assert entries
    for entry in entries:                          # same record, not this machine's HMAC
        data = bytearray(entry.read_bytes())
        data[20] ^= 1
        entry.write_bytes(bytes(data))
    refuse_reading(monkeypatch)
    with pytest.raises(AssertionError, match="read the sources"):
        build(load_config(project))


def test_recently_changed_files_are_compared_by_their_bytes(built, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file stamped within `RACY_NS` of the recorded build's start is digested by its bytes:
    unchanged, the build still stops early; changed in the same tick (same size, same stamps as
    far as they tell), it is read."""
    project, _ = built
    monkeypatch.setattr(memo_module, "RACY_NS", 10**15)     # every file is "too recent"
    build(load_config(project))                              # recorded with every file's bytes
    reads = count_reading(monkeypatch)
    build(load_config(project))
    assert reads[0] == 0
    source = _published_speech(project)
    info = source.stat()
    _same_size_same_time(source)
    real_stat = os.stat

    def same_stamps(path, *args, **kwargs):              # a file system whose stamps cannot tell
        found = real_stat(path, *args, **kwargs)
        if isinstance(path, (str, Path)) and Path(path) == source:
            fields = [*found[:10]]
            fields[1], fields[7:10] = info.st_ino, [int(info.st_atime), int(info.st_mtime), int(info.st_ctime)]
            return os.stat_result(fields, {"st_atime_ns": info.st_atime_ns, "st_mtime_ns": info.st_mtime_ns,
                                           "st_ctime_ns": info.st_ctime_ns})
        return found
    monkeypatch.setattr(memo_module.os, "stat", same_stamps)
    build(load_config(project))
    assert reads[0] == 1
