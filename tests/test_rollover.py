"""Key rollover end to end (issue 29): `speechgen keys rollover` has the old key sign a statement
naming the new certificate; builds carry the statements in the manifest's signature; `verify
--fingerprint OLD` follows them to a site, and PDFs, signed by the new certificate. A statement
not signed by the old key is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project
from speechgen import signing
from speechgen.cli import main

pytestmark = pytest.mark.pdf

PASSPHRASE = "kata-sandi-uji"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for name in ("old", "new", "evil"):
        made[name], made[f"{name}_key"] = signing.new_sample_keys(folder / name, f"Penerbit {name}", PASSPHRASE, 30)
    return made


def _run(monkeypatch: pytest.MonkeyPatch, key: Path | None, *args: str):
    if key is not None:
        monkeypatch.setenv(signing.KEY_ENV, str(key))
        monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    return CliRunner().invoke(main, list(args))


def _fp(path: Path) -> str:
    return signing.certificate_fingerprint(path.read_bytes())


@pytest.fixture(scope="module")
def rolled(keys, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Released and built with the old key; rolled over; a new speech released and everything
    built with the new key."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        project = copy_project(tmp_path_factory.mktemp("rollover") / "project")
        shutil.copy(keys["old"], project / "publisher.pem")
        with (project / "speechgen.toml").open("a") as f:
            f.write('\n[signing]\ncertificate = "publisher.pem"\n')
        for args in (("release", str(project), "-j", "1"), ("build", str(project), "--no-search", "-j", "1")):
            result = _run(monkeypatch, keys["old_key"], *args)
            assert result.exit_code == 0, result.output
        result = _run(monkeypatch, keys["old_key"], "keys", "rollover", str(project), "--new-certificate",
                      str(keys["new"]))
        assert result.exit_code == 0, result.output
        assert "Pernyataan / statement" in result.output
        assert _fp(project / "publisher.pem") == _fp(keys["new"])
        source = project / "speeches/2025/kenegaraan.id.md"
        shutil.copy(source, project / "speeches/2025/sesudah.id.md")
        for args in (("release", str(project), "-j", "1"), ("build", str(project), "--no-search", "-j", "1")):
            result = _run(monkeypatch, keys["new_key"], *args)
            assert result.exit_code == 0, result.output
    finally:
        monkeypatch.undo()
    return project


def test_the_statement_is_kept_in_the_project_and_signed_by_the_old_key(rolled: Path, keys) -> None:
    statements = sorted((rolled / signing.RENEWALS_DIR).glob("*.p7m"))
    assert len(statements) == 1
    assert statements[0].name.endswith(f"-{_fp(keys['new'])[:16]}.p7m")
    p7s = (rolled / "site/manifest.json.p7s").read_bytes()
    assert signing.renewals_in(p7s) == [statements[0].read_bytes()]
    # the signature lists the publisher's certificates over time: the new one signs, the old one is there
    from asn1crypto import cms

    listed = {signing.certificate_fingerprint(c.chosen.dump()) for c in cms.ContentInfo.load(p7s)["content"]["certificates"]}
    assert {_fp(keys["old"]), _fp(keys["new"])} <= listed
    # and so does the manifest itself: each certificate, when it took over, who vouched for it
    import json

    date = statements[0].name[:10]
    manifest = json.loads((rolled / "site/manifest.json").read_text())
    assert manifest["certificate"]["sha256"] == _fp(keys["new"])
    assert manifest["certificates"] == [
        {"sha256": _fp(keys["old"]), "until": date},
        {"sha256": _fp(keys["new"]), "from": date, "vouched_for_by": _fp(keys["old"])}]


@pytest.mark.parametrize("pdf", ["kenegaraan/kenegaraan.id.pdf", "sesudah/sesudah.id.pdf"])
def test_verify_with_the_old_fingerprint_follows_the_renewal(rolled: Path, keys, pdf: str) -> None:
    """The first PDF was signed with the old key, the second with the new; the manifest with the new."""
    site = rolled / "site"
    result = CliRunner().invoke(main, ["verify", str(site / "2025" / pdf), "--site", str(site),
                                       "--fingerprint", _fp(keys["old"])])
    assert result.exit_code == 0, result.output
    date = sorted((rolled / signing.RENEWALS_DIR).glob("*.p7m"))[0].name[:10]
    old = signing.fingerprint_for_print(_fp(keys["old"]))
    assert f"certificate renewed on {date}, dijamin oleh / vouched for by {old}" in result.stdout
    assert "Cocok / Match" in result.stdout
    assert "manifest.json: ditandatangani oleh / signed by Penerbit new" in result.stdout


def test_a_forged_statement_is_refused(rolled: Path, keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same renewal, signed by a key that is not the old one: the chain does not reach the
    new certificate, and nothing is called authentic."""
    from datetime import datetime, timezone

    project = tmp_path / "project"
    shutil.copytree(rolled, project, symlinks=True, ignore=shutil.ignore_patterns("site"))
    for kept in (project / signing.RENEWALS_DIR).glob("*.p7m"):
        kept.unlink()
    shutil.copy(keys["evil"], tmp_path / "evil.pem")
    evil = signing.load_signer(tmp_path, Path("evil.pem"), keys["evil_key"], PASSPHRASE, datetime.now(timezone.utc))
    forged = signing.renewal_statement(evil, keys["new"].read_bytes(), datetime.now(timezone.utc))
    (project / signing.RENEWALS_DIR / signing.statement_name(forged)).write_bytes(forged)
    result = _run(monkeypatch, keys["new_key"], "build", str(project), "--no-search", "-j", "1")
    assert result.exit_code == 0, result.output
    site = project / "site"
    result = CliRunner().invoke(main, ["verify", str(site / "2025/sesudah/sesudah.id.pdf"), "--site", str(site),
                                       "--fingerprint", _fp(keys["old"])])
    assert result.exit_code == 1, result.output
    assert "Cocok / Match" not in result.output and "renewed on" not in result.output
    assert "no renewal statement signed by the pinned certificate leads to" in result.output


def test_a_statement_changed_after_signing_is_refused(rolled: Path, keys, tmp_path: Path) -> None:
    """The real statement with one signed byte changed (its date): its signature no longer verifies."""
    from datetime import datetime, timezone

    statement = sorted((rolled / signing.RENEWALS_DIR).glob("*.p7m"))[0].read_bytes()
    date = statement.index(b'"date": "') + len(b'"date": "')
    changed = statement[:date] + (b"1999" if statement[date:date + 4] != b"1999" else b"2000") + statement[date + 4:]
    shutil.copy(keys["new"], tmp_path / "new.pem")
    new = signing.load_signer(tmp_path, Path("new.pem"), keys["new_key"], PASSPHRASE, datetime.now(timezone.utc))
    p7s = signing.sign_manifest(b"{}", new, renewals=(changed,))
    chain, refused = signing.follow_renewals(p7s, new.fingerprint, fingerprint=_fp(keys["old"]))
    assert chain == []
    assert "the signed bytes were changed" in refused[0], refused
    # and the genuine one is accepted
    chain, refused = signing.follow_renewals(signing.sign_manifest(b"{}", new, renewals=(statement,)),
                                             new.fingerprint, fingerprint=_fp(keys["old"]))
    assert [step.new for step in chain] == [new.fingerprint] and refused == []


def test_rollover_needs_the_old_key_and_a_new_certificate(keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path / "project")
    shutil.copy(keys["old"], project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    result = _run(monkeypatch, None, "keys", "rollover", str(project), "--new-certificate", str(keys["new"]))
    assert result.exit_code == 1 and "SPEECHGEN_SIGNING_KEY is not set" in result.output
    # the new key's file is not the old certificate's key
    result = _run(monkeypatch, keys["new_key"], "keys", "rollover", str(project), "--new-certificate", str(keys["new"]))
    assert result.exit_code == 1 and "does not match the certificate" in result.output
    result = _run(monkeypatch, keys["old_key"], "keys", "rollover", str(project), "--new-certificate", str(keys["old"]))
    assert result.exit_code == 1 and "the new certificate is the one in use now" in result.output
    assert not (project / signing.RENEWALS_DIR).exists()
    assert _fp(project / "publisher.pem") == _fp(keys["old"])
