"""`speechgen renew` end to end, against the test PKI `certomancer animate` serves (tests/pki):
editions released with a TSA whose certificate ends within the year get a fresh document
timestamp from a TSA whose certificate lasts; the ledger records each new revision beside the
old; both revisions verify as the edition; the next build serves the renewed file."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechgen import signing
from speechgen.cli import main
from test_ltv import PASSPHRASE, Pki, _free_port, _kept, ades_lta, pki  # noqa: F401  (pki: the fixture)

pytestmark = pytest.mark.pdf


def _set_tsa(project: Path, url: str) -> None:
    config = project / "speechgen.toml"
    text = config.read_text()
    start = text.index('timestamp_url = "') + len('timestamp_url = "')
    config.write_text(text[:start] + url + text[text.index('"', start):])


def _state(project: Path) -> dict[str, bytes]:
    """Every file of the ledger and editions/, by path."""
    files = {p: p.read_bytes() for p in (project / "editions").rglob("*") if p.is_file()}
    return {**{str(p.relative_to(project)): data for p, data in files.items()},
            "editions.txt": (project / "editions.txt").read_bytes()}


@pytest.fixture(scope="module")
def short_released(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project released (B-LTA) with the TSA whose certificate ends in 200 days."""
    from conftest import copy_project

    monkeypatch = pytest.MonkeyPatch()
    try:
        project = copy_project(tmp_path_factory.mktemp("renew") / "project")
        shutil.copy(pki.publisher, project / "publisher.pem")
        with (project / "speechgen.toml").open("a") as f:
            f.write(f'\n[signing]\ncertificate = "publisher.pem"\ntimestamp_url = "{pki.tsa_short}"\n')
        monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
        monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
        result = CliRunner().invoke(main, ["release", str(project), "-j", "1"])
        assert result.exit_code == 0, result.output
    finally:
        monkeypatch.undo()
    return project


@pytest.fixture
def project(short_released: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(short_released, copy, symlinks=True)
    return copy


def test_renew_end_to_end(project: Path, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyhanko.sign.ades.report import AdESPassed

    before = _state(project)
    old_ledger = before["editions.txt"].decode()
    kept = _kept(project)
    assert len(kept) == 3
    last = signing.last_timestamp(kept[0].read_bytes())
    assert last is not None and last.document and last.tsa_until == pki.tsa_short_until

    # a dry run lists what it would do and changes nothing
    result = CliRunner().invoke(main, ["renew", str(project), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("akan diperbarui / would be renewed") == 4, result.stdout      # 3 lines + total
    assert "3 edisi akan diperbarui / would be renewed" in result.stdout
    assert _state(project) == before
    # a horizon shorter than the TSA certificate's remaining 200 days: nothing is due
    result = CliRunner().invoke(main, ["renew", str(project), "--within", "100"])
    assert result.exit_code == 0 and "nothing to renew" in result.stdout, result.output
    assert _state(project) == before

    _set_tsa(project, pki.tsa)              # a TSA whose certificate lasts
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 0, result.output
    assert "3 edisi diperbarui / renewed" in result.stdout
    after = _state(project)
    ledger = after["editions.txt"].decode()
    assert ledger.startswith(old_ledger)    # every line kept as it was, the renewals appended
    renewals = [line.split() for line in ledger[len(old_ledger):].splitlines()]
    assert len(renewals) == 3 and all(r[0] == "renewal" for r in renewals)
    for path in kept:
        old, new = before[str(path.relative_to(project))], path.read_bytes()
        assert new.startswith(old) and len(new) > len(old)           # the old revision is a prefix
        line = next(r for r in renewals if r[6] == str(len(new)))
        assert line[5] == hashlib.sha256(new).hexdigest() and line[7] == hashlib.sha256(old).hexdigest()
        assert old.hex() in ledger or hashlib.sha256(old).hexdigest() in old_ledger
        renewed = signing.last_timestamp(new)
        assert renewed is not None and renewed.tsa_until.year == 2100
        # PDF/A stays: the metadata is the renderer's
        import io

        import pikepdf

        assert bytes(pikepdf.open(io.BytesIO(new)).Root.Metadata.read_bytes()) == \
            bytes(pikepdf.open(io.BytesIO(old)).Root.Metadata.read_bytes())

    # renewing twice in a row: the second time nothing is due, nothing changes
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 0 and "nothing to renew" in result.stdout, result.output
    assert _state(project) == after

    # the next build serves the renewed file; the manifest lists both revisions
    monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    result = CliRunner().invoke(main, ["build", str(project), "--no-search"])
    assert result.exit_code == 0, result.output
    site = project / "site"
    served = site / "2025/kenegaraan/kenegaraan.id.pdf"
    edition = project / "editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf"
    assert served.read_bytes() == edition.read_bytes()
    import json

    listed = json.loads((site / "manifest.json").read_text())
    entry = next(s for s in listed["speeches"] if s["id"] == "2025/kenegaraan")["languages"]["id"]
    old_sha = hashlib.sha256(before[str(edition.relative_to(project))]).hexdigest()
    assert entry["editions"][0]["sha256"] == hashlib.sha256(edition.read_bytes()).hexdigest()
    assert entry["editions"][0]["revisions"] == [old_sha]
    assert entry["pdf"]["sha256"] == entry["editions"][0]["sha256"]
    # a printed card shows the fingerprint of the bytes as released, for good: its copy page too
    from speechgen.model import fingerprint

    copy_pages = [p.read_text() for p in site.rglob("*.html") if 'class="card-edition"' in p.read_text()]
    assert copy_pages and all(fingerprint(old_sha) in page for page in copy_pages)

    # both revisions verify as that edition, with the root pinned
    old_file = tmp_path / "old" / "kenegaraan.id.pdf"
    old_file.parent.mkdir()
    old_file.write_bytes(before[str(edition.relative_to(project))])
    for pdf in (served, old_file):
        result = CliRunner().invoke(main, ["verify", str(pdf), "--site", str(site), "--certificate", str(pki.root)])
        assert result.exit_code == 0, result.output
        assert "Cocok / Match" in result.stdout and "edisi/edition 1 of 1" in result.stdout, result.stdout
        assert "intact, by the pinned certificate" in result.stdout
        assert ("an earlier revision" in result.stdout) == (pdf == old_file)

    # after the short-lived TSA certificate and the publisher's have expired, only the renewed
    # revision still proves its signature (pyHanko's own LTA validation, nothing fetched)
    later = max(pki.expires, pki.tsa_short_until) + timedelta(days=30)
    assert ades_lta(served.read_bytes(), pki.root, later).ades_subindic == AdESPassed.OK
    assert ades_lta(old_file.read_bytes(), pki.root, later).ades_subindic != AdESPassed.OK
    report = signing.check_pdf_signature(served.read_bytes(), certificate=pki.root.read_bytes(), now=later)
    assert report.ok and report.maintained and report.timestamped, report.problems


def test_a_tsa_whose_certificate_also_ends_soon_changes_nothing(project: Path, pki: Pki) -> None:
    before = _state(project)
    result = CliRunner().invoke(main, ["renew", str(project)])          # the same short-lived TSA
    assert result.exit_code == 1, result.output
    assert "within 365 days too" in result.output and "Traceback" not in result.output
    assert _state(project) == before


def test_an_unreachable_tsa_is_a_clear_error_and_nothing_changes(project: Path) -> None:
    before = _state(project)
    dead = f"http://127.0.0.1:{_free_port()}/tsa"
    _set_tsa(project, dead)
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 1, result.output
    assert f"the time-stamping authority {dead} did not answer" in result.output
    assert "nothing was changed" in result.output and "Traceback" not in result.output
    assert _state(project) == before          # no temporary file left either


def test_renew_needs_a_tsa(project: Path) -> None:
    config = project / "speechgen.toml"
    config.write_text("\n".join(line for line in config.read_text().splitlines() if "timestamp_url" not in line))
    before = _state(project)
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 1 and "[signing] timestamp_url is not set" in result.output, result.output
    assert _state(project) == before


def test_the_ledger_checks_its_renewal_lines(project: Path) -> None:
    """An old ledger reads as before; a renewal line must follow its edition's line and the
    revision before it, and the kept file must be the latest revision."""
    from speechgen.build import build
    from speechgen.config import load_config
    from speechgen.errors import SourceError

    ledger = project / "editions.txt"
    text = ledger.read_text()
    first = next(line for line in text.splitlines() if line and not line.startswith("#"))
    speech, lang, number, _, sha = first.split()[:5]
    other = "ab" * 32
    bad = (f"renewal {speech} {lang} 7 2026-01-01 {other} 100 {sha}\n"
           f"renewal {speech} {lang} {number} 2026-01-01 {other} 100 {'cd' * 32}\n"
           f"renewal {speech} {lang} {number} 2026-01-01 {other}\n")
    ledger.write_text(text + bad)
    with pytest.raises(SourceError) as caught:
        build(load_config(project), write=False, search=False, card_pdfs=False)
    said = "\n".join(caught.value.lines())
    count = len(text.splitlines())
    assert f"editions.txt:{count + 1}: renews {speech} ({lang}) edition 7, which no line above records" in said
    assert f"editions.txt:{count + 2}: renews {speech} ({lang}) edition {number} from SHA-256 cdcdcdcd" in said
    assert f"editions.txt:{count + 3}: 6 fields where a renewal line has 8" in said
    # a well-formed renewal whose kept file is still the old revision: the file is named
    ledger.write_text(text + f"renewal {speech} {lang} {number} 2026-01-01 {other} 100 {sha}\n")
    with pytest.raises(SourceError) as caught:
        build(load_config(project), write=False, search=False, card_pdfs=False)
    assert "the ledger says abababababababab" in "\n".join(caught.value.lines())


def test_each_renewal_adds_a_timestamp_field_of_its_own(project: Path, pki: Pki) -> None:
    """Renewed twice over (signing.renew_pdf): three document timestamps, each in a field of its
    own, each revision the next one's prefix, and pyHanko's LTA validation passes on the last."""
    import io

    import pikepdf
    from pyhanko.sign.ades.report import AdESPassed

    data = _kept(project)[0].read_bytes()
    once = signing.renew_pdf(data, pki.tsa)
    twice = signing.renew_pdf(once, pki.tsa)
    assert twice.startswith(once) and once.startswith(data)
    with pikepdf.open(io.BytesIO(twice)) as pdf:
        names = [str(f.T) for f in pdf.Root.AcroForm.Fields]
    assert names == [signing.FIELD_NAME, "CapWaktu", "CapWaktu-2", "CapWaktu-3"]
    later = max(pki.expires, pki.tsa_short_until) + timedelta(days=30)
    assert ades_lta(twice, pki.root, later).ades_subindic == AdESPassed.OK


@pytest.mark.skipif(shutil.which("faketime") is None, reason="Debian's faketime is not installed")
def test_after_the_certificates_expired_verify_proves_the_renewed_file_only(project: Path, pki: Pki,
                                                                            tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`speechgen verify` itself, run by faketime at a moment after the publisher's and the first
    TSA's certificates expired: the renewed edition is authentic, the revision before it is not
    proven any more (its timestamps' authority can no longer be checked)."""
    import os
    import subprocess
    import sys

    old = tmp_path / "old" / "kenegaraan.id.pdf"
    old.parent.mkdir()
    shutil.copy(project / "editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf", old)
    _set_tsa(project, pki.tsa)
    assert CliRunner().invoke(main, ["renew", str(project)]).exit_code == 0
    monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    assert CliRunner().invoke(main, ["build", str(project), "--no-search"]).exit_code == 0
    site = project / "site"
    later = max(pki.expires, pki.tsa_short_until) + timedelta(days=30)
    env = {k: v for k, v in os.environ.items() if k not in (signing.KEY_ENV, signing.PASSPHRASE_ENV)}

    def verify(pdf: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["faketime", "-f", f"@{later:%Y-%m-%d %H:%M:%S}", sys.executable, "-m", "speechgen",
                               "verify", str(pdf), "--site", str(site), "--certificate", str(pki.root)],
                              capture_output=True, text=True, env=env, timeout=300)

    renewed = verify(site / "2025/kenegaraan/kenegaraan.id.pdf")
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert "Cocok / Match" in renewed.stdout and renewed.stdout.count("time proven by a timestamp") == 2
    earlier = verify(old)
    assert earlier.returncode == 1, earlier.stdout + earlier.stderr
    assert "Cocok / Match" not in earlier.stdout and "Not proven authentic" in earlier.stderr


# --- a renewal killed at any step ----------------------------------------------------------------
# `renew` renames each new revision over its kept file, then replaces the ledger. Killed between
# two of those steps, it leaves kept files that are the ledger's revision followed only by the
# renewal's updates; the next build, release or renew puts each back (the ledger is the truth),
# and a second renew does the renewal again. Anything else in a kept file stays a mismatch.

class Killed(BaseException):
    """What SIGKILL would do at that moment: nothing after it runs (no `except OSError` undo)."""


def _kill_renew_at(project: Path, step: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run `speechgen renew` until its `step`-th rename into editions/ or onto the ledger (1-3:
    the kept files, 4: the ledger), killed just before that rename. Returns the renames done."""
    import os

    real = os.replace
    done: list[str] = []

    def replace(source, target, *args, **kwargs):
        target_path = Path(target)
        if target_path == project / "editions.txt" or (project / "editions") in target_path.parents:
            if len(done) + 1 == step:
                raise Killed
            done.append(target_path.name)
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    try:
        with pytest.raises(Killed):
            CliRunner().invoke(main, ["renew", str(project)])
    finally:
        monkeypatch.setattr(os, "replace", real)
    return done


def _sign_env(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)


def _build_and_verify(project: Path, pki: Pki) -> str:
    result = CliRunner().invoke(main, ["build", str(project), "--no-search"])
    assert result.exit_code == 0, result.output
    served = project / "site/2025/kenegaraan/kenegaraan.id.pdf"
    assert served.read_bytes() == (project / "editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf").read_bytes()
    verified = CliRunner().invoke(main, ["verify", str(served), "--site", str(project / "site"),
                                         "--certificate", str(pki.root)])
    assert verified.exit_code == 0, verified.output
    assert "Cocok / Match" in verified.stdout and "edisi/edition 1 of 1" in verified.stdout, verified.stdout
    return result.output


def _assert_renewed(project: Path, before: dict[str, bytes]) -> None:
    old_ledger = before["editions.txt"].decode()
    ledger = (project / "editions.txt").read_text()
    assert ledger.startswith(old_ledger)
    renewals = [line.split() for line in ledger[len(old_ledger):].splitlines()]
    assert len(renewals) == 3 and all(r[0] == "renewal" for r in renewals), ledger
    for path in _kept(project):
        old, new = before[str(path.relative_to(project))], path.read_bytes()
        assert new.startswith(old) and len(new) > len(old)
        assert [hashlib.sha256(new).hexdigest(), str(len(new)), hashlib.sha256(old).hexdigest()] in \
            [r[5:] for r in renewals]
        assert new.count(b"/DocTimeStamp") == old.count(b"/DocTimeStamp") + 1   # renewed once, not twice


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_renew_killed_at_any_step_then_build_verify_and_renew(project: Path, pki: Pki, step: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed before the `step`-th rename: the ledger is as it was; the build puts every kept file
    back to the revision it records (saying so), serves it, and verify proves it; renew again
    renews every edition once; build and verify again."""
    before = _state(project)
    _set_tsa(project, pki.tsa)
    done = _kill_renew_at(project, step, monkeypatch)
    assert len(done) == step - 1 and "editions.txt" not in done
    assert (project / "editions.txt").read_bytes() == before["editions.txt"]
    left = [p for p in _kept(project) if p.read_bytes() != before[str(p.relative_to(project))]]
    assert len(left) == step - 1 and all(p.read_bytes().startswith(before[str(p.relative_to(project))])
                                         for p in left)

    _sign_env(monkeypatch, pki)
    said = _build_and_verify(project, pki)
    assert said.count("a renewal left unfinished") == step - 1, said
    assert {k: v for k, v in _state(project).items() if "/." not in k} == before   # the old state, exactly

    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 0, result.output
    assert "3 edisi diperbarui / renewed" in result.stdout, result.stdout
    _assert_renewed(project, before)
    _build_and_verify(project, pki)
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 0 and "nothing to renew" in result.stdout, result.output


def test_renew_after_a_killed_renew_finishes_the_job(project: Path, pki: Pki,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed with every kept file renamed and the ledger not yet written: the next renew itself
    puts them back and renews each edition once (no stacked timestamps, no ledger line missing)."""
    before = _state(project)
    _set_tsa(project, pki.tsa)
    assert len(_kill_renew_at(project, 4, monkeypatch)) == 3
    left = _state(project)
    result = CliRunner().invoke(main, ["renew", str(project), "--dry-run"])     # reads, writes nothing
    assert result.exit_code == 0, result.output
    assert "3 edisi akan diperbarui / would be renewed" in result.stdout, result.stdout
    assert _state(project) == left
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 0, result.output
    assert result.output.count("a renewal left unfinished") == 3, result.output
    assert "3 edisi diperbarui / renewed" in result.stdout
    _assert_renewed(project, before)
    _sign_env(monkeypatch, pki)
    _build_and_verify(project, pki)


def test_a_renewal_killed_by_sigkill_in_a_subprocess(project: Path, pki: Pki,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The real thing: `speechgen renew` in a process of its own, SIGKILLed by itself right after
    its second kept file is renamed (its temporary files stay behind); then build and renew."""
    import os
    import subprocess
    import sys

    before = _state(project)
    _set_tsa(project, pki.tsa)
    script = (
        "import os, signal, sys\n"
        "from speechgen.cli import main\n"
        "real, count = os.replace, [0]\n"
        "def replace(source, target, *a, **k):\n"
        "    real(source, target, *a, **k)\n"
        "    if str(target).endswith('.pdf'):\n"
        "        count[0] += 1\n"
        "        if count[0] == 2:\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.replace = replace\n"
        "main(['renew', sys.argv[1]])\n")
    done = subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True, text=True,
                          timeout=600, env={**os.environ})
    assert done.returncode == -9, done.stdout + done.stderr
    assert (project / "editions.txt").read_bytes() == before["editions.txt"]
    assert sum(p.read_bytes() != before[str(p.relative_to(project))] for p in _kept(project)) == 2
    assert any(".pdf" in p.name and p.name.startswith(".") for p in (project / "editions").rglob("*"))  # a leftover
    _sign_env(monkeypatch, pki)
    said = _build_and_verify(project, pki)
    assert said.count("a renewal left unfinished") == 2, said
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 0, result.output
    _assert_renewed(project, before)
    assert _state(project).keys() == before.keys()          # the temporary files are gone
    _build_and_verify(project, pki)


def test_a_kept_file_that_is_not_an_unfinished_renewal_is_still_a_mismatch(project: Path, pki: Pki,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept file that is the ledger's revision plus anything but validation data and document
    timestamps (here: an unfinished renewal with a change of the catalogue after it; the
    revision with bytes appended that are no update) is named, by build and by renew, and left
    as it is."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    before = _state(project)
    _set_tsa(project, pki.tsa)
    _kill_renew_at(project, 4, monkeypatch)
    first, second = _kept(project)[:2]
    writer = IncrementalPdfFileWriter(io.BytesIO(first.read_bytes()), strict=False)
    writer.root["/PageMode"] = generic.NameObject("/UseOutlines")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    first.write_bytes(out.getvalue())
    second.write_bytes(before[str(second.relative_to(project))] + b"\n% appended\n")
    altered = {p: p.read_bytes() for p in (first, second)}
    _sign_env(monkeypatch, pki)
    result = CliRunner().invoke(main, ["build", str(project), "--no-search"])
    assert result.exit_code == 1, result.output
    for path in (first, second):
        assert f"{path.relative_to(project).as_posix()} has SHA-256" in result.output, result.output
        assert path.read_bytes() == altered[path]
    result = CliRunner().invoke(main, ["renew", str(project)])
    assert result.exit_code == 1, result.output
    assert "is not the revision the ledger records" in result.output
    assert all(path.read_bytes() == data for path, data in altered.items())
    assert (project / "editions.txt").read_bytes() == before["editions.txt"]


def test_a_build_leaves_a_renewal_alone_while_the_project_is_locked(project: Path, pki: Pki,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """While a renew holds the project's lock, a build into another folder does not touch a kept
    file being renewed: it says so and stops; once the lock is free, the build puts it back."""
    import os

    from speechgen.writer import lock_project

    before = _state(project)
    _set_tsa(project, pki.tsa)
    _kill_renew_at(project, 4, monkeypatch)
    left = _state(project)
    _sign_env(monkeypatch, pki)
    lock = lock_project(project, exclusive=True, wait=lambda: None)
    try:
        result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--out",
                                           str(project.parent / "elsewhere")])
    finally:
        os.close(lock)
    assert result.exit_code == 1, result.output
    assert result.output.count("is being renewed: `speechgen renew` (or a release) is running") == 3, result.output
    assert _state(project) == left
    _build_and_verify(project, pki)
    assert {k: v for k, v in _state(project).items() if "/." not in k} == before
