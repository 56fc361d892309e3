"""`speechgen serve` under hostile requests and failures: it answers only this machine, never
hangs on a silent client, never shows a traceback, and its watcher outlives any failure."""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path

import pytest

from speechgen import serve
from speechgen.serve import STATUS_PATH, Server


def _running(project: Path):
    logged: list[str] = []

    def log(message: str) -> None:        # as a terminal would: UTF-8, or an error
        message.encode("utf-8")
        logged.append(message)

    running = Server(project, port=0, log=log, interval=0.05)
    running.start()
    running.logged = logged
    return running


@pytest.fixture
def server(project: Path):
    """A server of its own, for a test that edits the project or breaks the watcher."""
    running = _running(project)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory):
    """One server for the tests that only send requests."""
    from conftest import copy_project

    running = _running(copy_project(tmp_path_factory.mktemp("serve") / "p"))
    yield running
    running.stop()


def request(server: Server, path: str, host: str | None = "127.0.0.1", method: str = "GET") -> tuple[int, bytes]:
    port = server.httpd.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_host=True)
    if host is not None:
        connection.putheader("Host", host.replace("PORT", str(port)))
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:PORT", "localhost:PORT", "LOCALHOST", "[::1]:PORT"])
def test_this_machine_is_answered(shared: Server, host: str) -> None:
    status, body = request(shared, "/2024/lama/index.html", host)
    assert status == 200 and b"Teks lama." in body


@pytest.mark.parametrize("host", ["evil.example:PORT", "127.0.0.1.nip.io:PORT", "localhost.:PORT", "127.1:PORT",
                                  "0.0.0.0:PORT", "[::ffff:127.0.0.1]:PORT", "127.0.0.1:PORT@evil", "", None])
def test_other_hosts_are_refused_so_dns_rebinding_reads_nothing(shared: Server, host: str | None) -> None:
    for method, path in (("GET", "/2024/lama/index.html"), ("HEAD", "/"), ("GET", STATUS_PATH)):
        status, body = request(shared, path, host, method)
        assert status == 403, (method, path)
        assert b"Teks lama." not in body and b"errors" not in body


@pytest.mark.parametrize("path, code", [("/" + "a" * 60_000, 414), ("/" + "a/" * 30_000, 414), ("/" + "%41" * 5000, 414),
                                        ("/" + "a" * 4000, 404), ("/%00", 404), ("/../../etc/passwd", 404)])
def test_hostile_paths_get_an_answer_and_no_traceback(shared: Server, path: str, code: int, capfd) -> None:
    status, _ = request(shared, path)
    assert status == code
    assert "Traceback" not in capfd.readouterr().err
    assert request(shared, "/2024/lama/index.html")[0] == 200        # still serving


def test_an_idle_connection_is_closed(shared: Server, monkeypatch) -> None:
    server = shared
    monkeypatch.setattr(serve, "IDLE_TIMEOUT", 0.5)
    port = server.httpd.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:
        silent.sendall(b"GET / HTTP/1.1\r\n")                     # and then nothing more
        started = time.monotonic()
        assert silent.recv(100) == b""                            # closed by the server
        assert time.monotonic() - started < 5


def test_the_watcher_survives_its_own_failures(server: Server, project: Path, monkeypatch) -> None:
    real = serve.snapshot
    calls = {"n": 0}

    def failing(folder: Path):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise PermissionError(13, "Permission denied", str(folder / "speeches"))
        return real(folder)

    monkeypatch.setattr(serve, "snapshot", failing)
    # The failure shows as the preview's error (it does not keep saying all is well)...
    assert wait_for(lambda: server.preview.errors)
    assert server.preview.errors == [f"{project / 'speeches'}: cannot build the preview: Permission denied"]
    assert sum("Permission denied" in line for line in server.logged) == 1      # logged once, not every round
    # ...and the next edit is rebuilt as usual.
    source = project / "speeches/2024/lama.id.md"
    source.write_text(source.read_text().replace("Teks lama.", "Teks sesudah gangguan."))
    assert wait_for(lambda: b"Teks sesudah gangguan." in request(server, "/2024/lama/index.html")[1])
    assert wait_for(lambda: server.preview.errors == [])


def test_a_watcher_that_recovers_shows_the_last_build_again(server: Server, monkeypatch) -> None:
    real = serve.snapshot
    failing = {"on": True}

    def snapshot(folder: Path):
        if failing["on"]:
            raise OSError(5, "Input/output error")
        return real(folder)

    monkeypatch.setattr(serve, "snapshot", snapshot)
    assert wait_for(lambda: server.preview.errors)
    failing["on"] = False                        # nothing changed meanwhile: no rebuild, yet no stale error
    assert wait_for(lambda: server.preview.errors == [])


def test_an_unexpected_error_in_the_first_build_is_shown_not_raised(project: Path, monkeypatch) -> None:
    from speechgen import build as build_module

    def build(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(build_module, "build", build)
    running = _running(project)                   # start() returns: the preview is up, showing why
    try:
        errors = json.loads(request(running, STATUS_PATH)[1])["errors"]
        assert errors == [f"{project}: the preview could not be rebuilt (RecursionError: maximum recursion "
                          "depth exceeded); it keeps watching for changes"]
        assert "Gagal membangun; pratinjau terakhir tetap tampil. / Build failed; the last good preview "\
               "stays up." in running.logged
    finally:
        running.stop()


def test_an_unexpected_error_in_a_rebuild_is_shown_and_watching_goes_on(server: Server, project: Path,
                                                                         monkeypatch) -> None:
    from speechgen import build as build_module

    real = build_module.build
    broken = {"on": True}

    def build(*args, **kwargs):
        if broken["on"]:
            raise KeyError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "build", build)
    source = project / "speeches/2024/lama.id.md"
    source.write_text(source.read_text().replace("Teks lama.", "Teks kedua."))
    assert wait_for(lambda: server.preview.errors)
    status = json.loads(request(server, STATUS_PATH)[1])
    assert status["errors"] == [f"{project}: the preview could not be rebuilt (KeyError: 'boom'); it keeps "
                                "watching for changes"]
    broken["on"] = False
    source.write_text(source.read_text().replace("Teks kedua.", "Teks ketiga."))
    assert wait_for(lambda: b"Teks ketiga." in request(server, "/2024/lama/index.html")[1])
    assert wait_for(lambda: json.loads(request(server, STATUS_PATH)[1])["errors"] == [])


def test_a_file_name_that_is_not_utf8_does_not_stop_the_watcher(server: Server, project: Path) -> None:
    import os

    (project / "static").joinpath(os.fsdecode(b"gambar-\xff.png")).write_bytes(b"x")
    assert wait_for(lambda: any("not UTF-8" in e for e in server.preview.errors))
    assert "Berubah / changed: static/gambar-\\xff.png" in server.logged
    (project / "static").joinpath(os.fsdecode(b"gambar-\xff.png")).unlink()
    assert wait_for(lambda: server.preview.errors == [])
