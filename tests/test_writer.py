"""The writer swaps a whole build in atomically and refuses any folder that is not its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from speechgen.errors import OutputError
from speechgen.model import Artifact
from speechgen.writer import MARKER, write_site


def test_writes_and_replaces_whole(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site([Artifact("a/index.html", b"1"), Artifact("old.txt", b"x")], out, tmp_path / "proj")
    write_site([Artifact("a/index.html", b"2")], out, tmp_path / "proj")
    assert (out / "a/index.html").read_bytes() == b"2"
    assert not (out / "old.txt").exists()           # stale files do not linger
    assert (out / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_failure_mid_write_leaves_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site([Artifact("index.html", b"good")], out, tmp_path / "proj")

    def artifacts():
        yield Artifact("index.html", b"new")
        raise OSError(28, "No space left on device")   # disk full, simulated

    with pytest.raises(OSError):
        write_site(artifacts(), out, tmp_path / "proj")
    assert (out / "index.html").read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_leftovers_of_a_killed_build_are_cleaned(tmp_path: Path) -> None:
    stale = tmp_path / ".site.tmp-abc123"
    stale.mkdir()
    (stale / "half.html").write_text("half")
    write_site([Artifact("index.html", b"ok")], tmp_path / "site", tmp_path / "proj")
    assert not stale.exists()


@pytest.mark.parametrize("dest", ["../x", "/etc/passwd", "a/../../b", "", "a//b", "a\\b", "a\x00b", "./a"])
def test_refuses_paths_outside_output(tmp_path: Path, dest: str) -> None:
    with pytest.raises(OutputError):
        write_site([Artifact(dest, b"x")], tmp_path / "site", tmp_path / "proj")
    assert not (tmp_path / "site").exists()
    assert not (tmp_path / "x").exists() and not (tmp_path / "b").exists()


def test_refuses_two_artifacts_on_one_path(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="two outputs claim one path"):
        write_site([Artifact("a.html", b"1"), Artifact("a.html", b"2")], tmp_path / "site", tmp_path)


def test_refuses_foreign_nonempty_folder(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError, match="not made by speechgen"):
        write_site([Artifact("index.html", b"x")], out, tmp_path / "proj")
    assert (out / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize("which", ["project", "parent", "root", "home", "speeches"])
def test_refuses_dangerous_output_folders(tmp_path: Path, which: str, monkeypatch) -> None:
    project = tmp_path / "home" / "proj"
    (project / "speeches").mkdir(parents=True)
    (project / "speeches" / "keep.md").write_text("keep")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out = {"project": project, "parent": project.parent, "root": Path("/"),
           "home": tmp_path / "home", "speeches": project / "speeches"}[which]
    with pytest.raises(OutputError, match="refusing"):
        write_site([Artifact("index.html", b"x")], out, project)
    assert (project / "speeches" / "keep.md").read_text() == "keep"


def test_output_is_world_readable(tmp_path: Path) -> None:
    write_site([Artifact("index.html", b"x")], tmp_path / "site", tmp_path / "proj")
    assert os.stat(tmp_path / "site").st_mode & 0o755 == 0o755


def test_an_unchanged_rebuild_leaves_the_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "site"
    files = [Artifact("index.html", b"1"), Artifact("a/b.html", b"22")]
    assert not write_site(files, out, tmp_path / "proj").unchanged
    inode = os.stat(out).st_ino
    again = write_site(list(files), out, tmp_path / "proj")
    assert again.unchanged and os.stat(out).st_ino == inode          # not swapped
    (out / "a/b.html").write_bytes(b"2")                               # damaged by hand: rewritten
    repaired = write_site(list(files), out, tmp_path / "proj")
    assert not repaired.unchanged and (out / "a/b.html").read_bytes() == b"22"
    changed = write_site([Artifact("index.html", b"3")], out, tmp_path / "proj")
    assert not changed.unchanged and not (out / "a").exists()


def test_a_file_made_beside_the_output_is_moved_in_or_kept(tmp_path: Path) -> None:
    """`adopt`: a tool's file (the search index's) is renamed into the new output, not copied;
    when the previous output holds the same bytes, that file is kept and the new one left."""
    import hashlib

    from speechgen.writer import SiteWriter

    out, project = tmp_path / "site", tmp_path / "project"
    project.mkdir()
    made = tmp_path / "scratch-a.bin"
    made.write_bytes(b"index bytes")
    with SiteWriter(out, project) as writer:
        sha = writer.adopt("pagefind/0/index.bin", made)
        inode = (writer.tmp / "pagefind/0/index.bin").stat().st_ino
        writer.commit()
    assert sha == hashlib.sha256(b"index bytes").hexdigest()
    assert not made.exists()                                  # moved, not copied
    assert (out / "pagefind/0/index.bin").stat().st_ino == inode
    again = tmp_path / "scratch-b.bin"
    again.write_bytes(b"index bytes")
    with SiteWriter(out, project) as writer:
        assert writer.adopt("pagefind/0/index.bin", again) == sha
        report = writer.commit()
    assert report.unchanged and again.exists()                 # the previous file kept as it was
    assert (out / "pagefind/0/index.bin").stat().st_ino == inode


def _tree(folder: Path) -> tuple[set[str], set[str]]:
    """(files, folders) under `folder`, as relative paths."""
    files, folders = set(), set()
    for root, dirs, names in os.walk(folder):
        rel = os.path.relpath(root, folder)
        folders.update(os.path.normpath(os.path.join(rel, d)) for d in dirs)
        files.update(os.path.normpath(os.path.join(rel, n)) for n in names)
    return files, folders


def test_folders_made_ahead_end_as_the_new_output_needs_them(tmp_path: Path, monkeypatch) -> None:
    """The previous output's folders are made in the new tree by a helper process while the
    build runs; at commit the tree holds exactly the new output: no folder the new output lost,
    every new one, files kept and written alike."""
    from speechgen import writer as writer_module
    from speechgen.writer import SiteWriter

    monkeypatch.setattr(writer_module, "FOLDERS_AHEAD", 2)
    out, project = tmp_path / "site", tmp_path / "proj"
    first = {f"{y}/s{n}/index.html": f"{y}{n}".encode() for y in (1990, 1991, 1992) for n in range(3)}
    first["1992/s0/en/index.html"] = b"en"
    write_site([Artifact(d, b) for d, b in first.items()], out, project)

    second = {d: b for d, b in first.items() if not d.startswith("1991/")}   # 1991 is gone
    del second["1992/s0/en/index.html"]                                         # so is a nested one
    second["1990/s0/index.html"] = b"edited"
    second["2000/new/index.html"] = b"new"
    with SiteWriter(out, project) as writer:
        assert writer._ahead is not None, "no helper was started for the previous output's folders"
        writer._ahead.wait()
        made = _tree(writer.tmp)[1]
        assert {"1990", "1991/s2", "1992/s0/en"} <= made                  # made ahead, before any write
        for dest, data in second.items():
            writer.write(dest, data)
        writer.commit()
    files, folders = _tree(out)
    assert files == {*second, MARKER}
    assert folders == {"1990", "1992", "2000", "2000/new", *(f"{y}/s{n}" for y in (1990, 1992) for n in range(3))}
    assert all((out / d).read_bytes() == b for d, b in second.items())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_build_stops_the_folder_helper_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    """A build that fails while the helper is still at work stops it (it is not waited for) and
    leaves the previous output as it was, nothing beside it."""
    import subprocess
    import time

    from speechgen import writer as writer_module

    monkeypatch.setattr(writer_module, "FOLDERS_AHEAD", 2)
    out = tmp_path / "site"
    write_site([Artifact(f"{n}/a/b/index.html", b"x") for n in range(50)], out, tmp_path / "proj")
    before = _tree(out)
    # a helper that is slow to start making its folders
    monkeypatch.setattr(writer_module, "_MAKE_FOLDERS", "import time\ntime.sleep(30)\n" + writer_module._MAKE_FOLDERS)
    helpers, popen = [], subprocess.Popen

    def started(*args, **options):
        helpers.append(popen(*args, **options))
        return helpers[-1]

    monkeypatch.setattr(writer_module.subprocess, "Popen", started)

    def artifacts():
        yield Artifact("0/a/b/index.html", b"new")
        raise OSError(28, "No space left on device")

    began = time.monotonic()
    with pytest.raises(OSError):
        write_site(artifacts(), out, tmp_path / "proj")
    assert time.monotonic() - began < 10                   # the helper was stopped, not waited for
    assert len(helpers) == 1 and helpers[0].poll() is not None
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_folder_of_the_previous_output_can_become_a_file(tmp_path: Path, monkeypatch) -> None:
    """A folder made ahead from the previous output is taken away where the new output writes a
    file at its path."""
    from speechgen import writer as writer_module

    monkeypatch.setattr(writer_module, "FOLDERS_AHEAD", 2)
    out = tmp_path / "site"
    write_site([Artifact("a/b/c/index.html", b"old"), Artifact("x/index.html", b"x")], out, tmp_path / "proj")
    write_site([Artifact("a/b", b"now a file"), Artifact("x/index.html", b"x")], out, tmp_path / "proj")
    assert (out / "a/b").read_bytes() == b"now a file"
    assert _tree(out) == ({"a/b", "x/index.html", MARKER}, {"a", "x"})


def test_no_folders_are_made_ahead_on_a_file_system_blind_to_case(tmp_path: Path, monkeypatch) -> None:
    """Where a folder's name answers in either case (the temporary folder is seen under its
    name's other case), a folder made ahead as "A" would take the build's "a/...": none is made."""
    from speechgen import writer as writer_module
    from speechgen.writer import SiteWriter

    monkeypatch.setattr(writer_module, "FOLDERS_AHEAD", 2)
    out = tmp_path / "site"
    write_site([Artifact(f"{n}/x/index.html", b"x") for n in range(5)], out, tmp_path / "proj")
    made = writer_module.tempfile.mkdtemp

    def blind(**options):               # the temporary folder, seen under either case
        folder = made(**options)
        os.symlink(folder, os.path.join(os.path.dirname(folder), os.path.basename(folder).swapcase()))
        return folder

    monkeypatch.setattr(writer_module.tempfile, "mkdtemp", blind)
    with SiteWriter(out, tmp_path / "proj") as writer:
        assert writer._ahead is None
        twin = writer.tmp.parent / writer.tmp.name.swapcase()
        twin.unlink()
        writer.write("0/x/index.html", b"y")
        writer.commit()
    assert (out / "0/x/index.html").read_bytes() == b"y"


@pytest.mark.parametrize("served", [True, False])
def test_a_served_writer_shows_a_file_only_when_it_is_whole(tmp_path: Path, served: bool) -> None:
    """The preview serves the writer's folder while the build writes it: a file being written is
    not under its own name until its last byte is in."""
    import threading

    from speechgen.writer import SiteWriter

    source = tmp_path / "fifo"
    os.mkfifo(source)
    with SiteWriter(tmp_path / "site", tmp_path / "proj") as writer:
        writer.served = served
        copying = threading.Thread(target=writer.copy, args=("big/file.bin", source))
        copying.start()
        with open(source, "wb") as feed:
            feed.write(b"a" * (1 << 20))
            feed.flush()
            target = writer.tmp / "big" / "file.bin"
            for _ in range(200):                      # the first block has reached the writer's file
                written = [p for p in (writer.tmp / "big").glob("*file.bin*")] if (writer.tmp / "big").exists() else []
                if written and written[0].stat().st_size > 0:
                    break
                threading.Event().wait(0.01)
            seen_mid_write = target.exists()
            feed.write(b"b" * 10)
        copying.join()
        assert target.read_bytes() == b"a" * (1 << 20) + b"b" * 10
        assert sorted(p.name for p in (writer.tmp / "big").iterdir()) == ["file.bin"]
        writer.write("page.html", b"whole")
        assert (writer.tmp / "page.html").read_bytes() == b"whole"
        writer.commit()
    assert seen_mid_write is not served
    assert (tmp_path / "site" / "big" / "file.bin").stat().st_size == (1 << 20) + 10


def test_a_large_replaced_output_is_removed_after_the_build_by_a_detached_helper(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    """The build returns once the new output is in: the old tree (thousands of files in an
    archive) is removed by a process of its own, never in the build's, and is gone soon after;
    the next build meets a tree whose helper has not finished yet as a leftover."""
    import time

    from speechgen import writer

    monkeypatch.setattr(writer, "REMOVE_DETACHED", 20)
    removed_here: list[str] = []
    real_rmtree = writer.shutil.rmtree
    monkeypatch.setattr(writer.shutil, "rmtree", lambda path, *a, **k: (removed_here.append(str(path)),
                                                                        real_rmtree(path, *a, **k)))
    out = tmp_path / "site"
    many = [Artifact(f"d{i}/index.html", b"%d" % i) for i in range(30)]
    write_site(many, out, tmp_path / "proj")
    write_site([Artifact("index.html", b"new")], out, tmp_path / "proj")     # 30 files replaced
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "index.html"]
    assert not any(".tmp-" in path for path in removed_here), removed_here
    deadline = time.monotonic() + 10
    while any(".tmp-" in p.name for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    write_site([Artifact("index.html", b"small")], out, tmp_path / "proj")  # 1 file: removed here
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert (out / "index.html").read_bytes() == b"small"
