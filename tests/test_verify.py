"""`speechgen verify`: a recipient can tell whether a downloaded PDF is the published one."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("verify") / "project")
    build(load_config(project), pdf=True, card_pdfs=False)
    return project / "site"


@pytest.fixture
def served(site: Path):
    """The built site over HTTP on loopback, as a recipient would reach it."""
    handler = partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


def verify(*args: str):
    return CliRunner().invoke(main, ["verify", *args])


@pytest.mark.pdf
def test_the_published_pdf_matches(site: Path) -> None:
    result = verify(str(site / "2025/kenegaraan/kenegaraan.en.pdf"), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "Cocok / Match: kenegaraan.en.pdf is the published PDF of 'Test State Address'" in result.output
    assert "(2025/kenegaraan, en, 2025-08-15)" in result.output
    assert "https://pidato.example.go.id/arsip/2025/kenegaraan/kenegaraan.en.pdf" in result.output


@pytest.mark.pdf
def test_a_changed_pdf_does_not_match(site: Path, tmp_path: Path) -> None:
    data = bytearray((site / "2025/kenegaraan/kenegaraan.id.pdf").read_bytes())
    data[len(data) // 2] ^= 0x01                     # one bit, somewhere in the middle
    changed = tmp_path / "kenegaraan.id.pdf"
    changed.write_bytes(bytes(data))
    result = verify(str(changed), "--site", str(site / "manifest.json"))
    assert result.exit_code == 1
    assert "Tidak cocok / No match: kenegaraan.id.pdf is not a PDF published in" in result.output
    # the mailroom list is published too, but it is not a speech's PDF
    assert verify(str(site / "2025/kenegaraan/kartu-qr.csv"), "--site", str(site)).exit_code == 1


@pytest.mark.pdf
def test_verify_against_the_site_url(site: Path, served: str) -> None:
    pdf = str(site / "2024/lama/lama.id.pdf")
    for where in (served, served.rstrip("/"), served + "manifest.json"):
        result = verify(pdf, "--site", where)
        assert result.exit_code == 0, result.output
        assert "'Pidato Lama'" in result.output
    missing = verify(pdf, "--site", served + "tidak-ada/")
    assert missing.exit_code == 1
    assert "tidak-ada/manifest.json: HTTP 404" in missing.output
    assert "Traceback" not in missing.output


def test_a_folder_without_a_manifest_is_a_clear_error(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    result = verify(str(pdf), "--site", str(tmp_path))
    assert result.exit_code == 1
    assert "manifest.json: no manifest here" in result.output
    (tmp_path / "manifest.json").write_text("[1, 2]")
    result = verify(str(pdf), "--site", str(tmp_path))
    assert result.exit_code == 1 and "not a speechgen manifest" in result.output
    assert verify(str(tmp_path / "absent.pdf")).exit_code == 2      # a usage error


@pytest.mark.pdf
def test_nothing_is_called_authentic_when_a_signature_check_fails(site: Path) -> None:
    """The PDF is listed, but with a pin given neither the manifest nor the PDF is signed: every
    check is made first, and "Cocok / Match ... authentic" never reaches stdout (issue 29)."""
    result = verify(str(site / "2025/kenegaraan/kenegaraan.en.pdf"), "--site", str(site),
                    "--fingerprint", "ab" * 32)
    assert result.exit_code == 1
    assert "Cocok" not in result.stdout and "authentic" not in result.stdout, result.stdout
    assert "Tidak terbukti asli / Not proven authentic: kenegaraan.en.pdf has the SHA-256 listed for " \
           "the published PDF of 'Test State Address'" in result.stderr
    assert "manifest.json: tidak ditandatangani / the site's manifest carries no signature" in result.stderr
    assert "PDF: tidak ditandatangani / not signed" in result.stderr


def _nested_pdf(depth: int) -> bytes:
    """A PDF whose xref is sound and whose catalog holds `depth` nested arrays."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * depth + b"]" * depth + b" >>",
               b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 3\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


@pytest.mark.parametrize("body, expected", [
    (_nested_pdf(200_000), "not a PDF that can be read (objects nested too deeply)"),
    (b"%PDF-1.7\n" + b"\x00" * 5000, "not a PDF that can be read ("),
    (b"not a pdf at all", "not a PDF that can be read ("),
], ids=["nested-200000", "zeros", "text"])
def test_a_malformed_or_deeply_nested_pdf_is_one_line(tmp_path: Path, body: bytes, expected: str) -> None:
    pdf = tmp_path / "rusak.pdf"
    pdf.write_bytes(body)
    result = verify(str(pdf), "--fingerprint", "ab" * 32)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(expected), lines
    assert lines[1] == "Gagal: 1 masalah. / Failed: 1 problem."


def test_a_remote_manifest_over_plain_http_is_refused(tmp_path) -> None:
    from click.testing import CliRunner
    from speechgen.cli import main

    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7 not really")
    result = CliRunner().invoke(main, ["verify", str(pdf), "--site", "http://pidato.example.go.id/arsip/"])
    assert result.exit_code == 1
    assert "use the site's https:// address" in result.output


# --- hostile sites: every redirect checked, one deadline, sane sizes, no traceback ---------------

import hashlib                                                     # noqa: E402
import json                                                        # noqa: E402
import os                                                          # noqa: E402
import ssl                                                         # noqa: E402
import subprocess                                                  # noqa: E402
import time                                                        # noqa: E402
from http.server import BaseHTTPRequestHandler                     # noqa: E402

from speechgen import verify as verify_module                      # noqa: E402

PDF = b"%PDF-1.7\nsebuah pdf uji\n%%EOF\n"
MANIFEST = json.dumps({"speeches": [{"id": "2025/uji", "date": "2025-08-15", "languages": {
    "id": {"title": "Pidato Uji", "pdf": {"sha256": hashlib.sha256(PDF).hexdigest(),
                                          "url": "https://pidato.example.go.id/2025/uji/uji.id.pdf"}}}}]}).encode()


class _Hostile(BaseHTTPRequestHandler):
    """Routes: /situs/manifest.json is a good manifest; the rest misbehave as their names say."""

    routes: dict = {}

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        route(self)


def _send(handler: BaseHTTPRequestHandler, body: bytes, length: bool = True) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if length:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _redirect(to: str):
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", to.replace("ORIGIN", handler.server.origin))
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return route


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        for _ in range(200):                      # one byte every 0.1 s: never idle, never done
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass


def _trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    try:
        handler.wfile.write(b"HTTP/1.0 200 OK\r\n")
        for _ in range(200):
            handler.wfile.write(b"X-Drip: 1\r\n")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass


_ROUTES = {
    "/situs/manifest.json": lambda h: _send(h, MANIFEST),
    "/lompat/manifest.json": _redirect("ORIGIN/situs/manifest.json"),
    "/ke-http-publik/manifest.json": _redirect("http://pidato.example.go.id/manifest.json"),
    "/ke-ftp/manifest.json": _redirect("ftp://pidato.example.go.id/manifest.json"),
    "/ke-berkas/manifest.json": _redirect("file:///etc/passwd"),
    "/ke-sandi/manifest.json": _redirect("https://pengguna:sandi@pidato.example.go.id/manifest.json"),
    "/berputar/manifest.json": _redirect("ORIGIN/berputar/manifest.json"),
    "/menetes/manifest.json": _trickle,
    "/kepala-menetes/manifest.json": _trickle_headers,
    "/besar/manifest.json": lambda h: _send(h, b" " * 5000),
    "/besar-tanpa-panjang/manifest.json": lambda h: _send(h, b" " * 5000, length=False),
    "/dalam/manifest.json": lambda h: _send(h, b"[" * 100_000 + b"]" * 100_000),
    "/bukan-json/manifest.json": lambda h: _send(h, b"\xff\xfe<html>"),
}


def _serve(server: ThreadingHTTPServer, origin: str) -> ThreadingHTTPServer:
    server.origin = origin
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def hostile():
    handler = type("Handler", (_Hostile,), {"routes": _ROUTES})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    _serve(server, origin)
    yield origin
    server.shutdown()
    server.server_close()


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "uji.id.pdf"
    path.write_bytes(PDF)
    return path


def test_a_redirect_on_this_machine_is_followed_and_the_url_read_is_reported(hostile: str, pdf: Path,
                                                                            tmp_path: Path) -> None:
    verdict = verify_module.verify(pdf, hostile + "/lompat/")
    assert verdict.match is not None and verdict.match.title == "Pidato Uji"
    assert verdict.manifest == hostile + "/situs/manifest.json"          # where it was read, not asked
    other = tmp_path / "lain.pdf"
    other.write_bytes(b"%PDF-1.7 lain")
    result = verify(str(other), "--site", hostile + "/lompat/")
    assert result.exit_code == 1
    assert f"is not a PDF published in {hostile}/situs/manifest.json" in result.output


@pytest.mark.parametrize("route, expected", [
    ("/ke-http-publik/", "/ke-http-publik/manifest.json: redirects to http://pidato.example.go.id/manifest.json: "
                         "use the site's https:// address"),
    ("/ke-ftp/", "/ke-ftp/manifest.json: redirects to ftp://pidato.example.go.id/manifest.json: not an https:// address"),
    ("/ke-berkas/", "/ke-berkas/manifest.json: redirects to file:///etc/passwd: not an https:// address"),
    ("/ke-sandi/", "must not hold a user name or password"),
    ("/berputar/", "/berputar/manifest.json: HTTP 302"),
    ("/besar/", "/besar/manifest.json: the manifest is larger than 1,000 bytes"),
    ("/besar-tanpa-panjang/", "/besar-tanpa-panjang/manifest.json: the manifest is larger than 1,000 bytes"),
    ("/dalam/", "/dalam/manifest.json: not a speechgen manifest (lists and objects nested too deeply)"),
    ("/bukan-json/", "/bukan-json/manifest.json: not a speechgen manifest (not JSON)"),
])
def test_a_hostile_site_gets_a_message(hostile: str, pdf: Path, route: str, expected: str, monkeypatch) -> None:
    if "besar" in route:
        monkeypatch.setattr(verify_module, "MAX_MANIFEST_BYTES", 1000)
    result = verify(str(pdf), "--site", hostile + route)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert expected in result.output, result.output


@pytest.mark.parametrize("route", ["/menetes/", "/kepala-menetes/"])
def test_one_deadline_for_the_whole_download(hostile: str, pdf: Path, route: str, monkeypatch) -> None:
    monkeypatch.setattr(verify_module, "TIMEOUT", 1.0)
    started = time.monotonic()
    result = verify(str(pdf), "--site", hostile + route)
    assert time.monotonic() - started < 5           # each read is quick; the whole is not
    assert result.exit_code == 1
    assert f"{hostile}{route}manifest.json: the manifest did not arrive within 1 s" in result.output


def test_a_local_manifest_that_is_not_a_regular_file_or_too_large_or_too_deep(pdf: Path, tmp_path: Path,
                                                                              monkeypatch) -> None:
    os.mkfifo(tmp_path / "pipa.json")
    (tmp_path / "dalam.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    (tmp_path / "besar.json").write_bytes(b" " * 2000)
    os.symlink("/dev/zero", tmp_path / "nol.json")
    for name, expected in (("pipa.json", "is not a regular file but a FIFO (named pipe)"),
                           ("nol.json", "is not a regular file but a character device"),
                           ("dalam.json", "not a speechgen manifest (lists and objects nested too deeply)"),
                           ("besar.json", "file is 2,000 bytes; the limit is 1,000")):
        if name == "besar.json":
            monkeypatch.setattr(verify_module, "MAX_MANIFEST_BYTES", 1000)
        started = time.monotonic()
        result = verify(str(pdf), "--site", str(tmp_path / name))
        assert time.monotonic() - started < 5
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert f"{tmp_path / name}: {expected}" in result.output


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory):
    """An https server on loopback with a certificate this test trusts, and a plain http one."""
    folder = tmp_path_factory.mktemp("tls")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                           "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                           "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip("openssl cannot make a test certificate here")
    plain = ThreadingHTTPServer(("127.0.0.1", 0), type("Plain", (_Hostile,), {"routes": _ROUTES}))
    plain_origin = f"http://127.0.0.1:{plain.server_address[1]}"
    _serve(plain, plain_origin)
    routes = {**_ROUTES, "/turun/manifest.json": _redirect(plain_origin + "/situs/manifest.json")}
    secure = ThreadingHTTPServer(("127.0.0.1", 0), type("Secure", (_Hostile,), {"routes": routes}))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    origin = f"https://127.0.0.1:{secure.server_address[1]}"
    _serve(secure, origin)
    yield origin, folder / "cert.pem"
    for server in (secure, plain):
        server.shutdown()
        server.server_close()


@pytest.fixture
def trusting(tls, monkeypatch):
    origin, cert = tls
    monkeypatch.setattr(ssl, "_create_default_https_context",
                        lambda *a, **k: ssl.create_default_context(cafile=str(cert)))
    return origin


def test_https_is_read_and_a_redirect_within_https_followed(trusting: str, pdf: Path) -> None:
    verdict = verify_module.verify(pdf, trusting + "/lompat/")
    assert verdict.match is not None and verdict.manifest == trusting + "/situs/manifest.json"


def test_a_redirect_from_https_to_plain_http_is_refused(trusting: str, pdf: Path) -> None:
    result = verify(str(pdf), "--site", trusting + "/turun/")
    assert result.exit_code == 1
    assert f"{trusting}/turun/manifest.json: redirects to http://127.0.0.1:" in result.output
    assert "a redirect from https to plain http is not followed" in result.output


def test_an_untrusted_certificate_is_a_message(tls, pdf: Path) -> None:
    origin, _ = tls
    result = verify(str(pdf), "--site", origin + "/situs/")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{origin}/situs/manifest.json: cannot download the manifest: " in result.output
    assert "CERTIFICATE_VERIFY_FAILED" in result.output
