"""An office's sequences, not its steps: random runs of build, build --no-pdf, release, correction,
withdrawal, rename with aliases and `publish --delete` against a real S3 server (SeaweedFS) never
lose a released edition or a printed copy URL from the bucket, nor change their bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import copy_project
from speechgen import publish as pub
from speechgen.build import build
from speechgen.config import load_config
from speechgen.release import release
from test_publish import _credentials, objects, s3  # noqa: F401 - the fixtures this module uses

pytestmark = pytest.mark.pdf

PREFIX = "arsip/"
STEPS = ("build", "build-no-pdf", "release", "correct", "withdraw", "rename", "publish-delete")


class Office:
    """The fixture project and what an office has done to it so far."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.slug = "kenegaraan"
        self.corrections = 0
        self.pending = False            # the text changed since its last release, with a correction
        self.withdrawn = False
        self.built = False
        self.seen: dict[str, str] = {}  # bucket key -> SHA-256, of everything that must stay for good

    def source(self, lang: str = "id") -> Path:
        return self.root / f"speeches/2025/{self.slug}.{lang}.md"

    def released(self) -> bool:
        return " id 1 " in (self.root / "editions.txt").read_text() if (self.root / "editions.txt").exists() else False

    def front_matter(self, lines: str, lang: str = "id") -> None:
        path = self.source(lang)
        text = path.read_text("utf-8")
        path.write_text(text.replace("\n---\n", f"\n{lines}---\n", 1), "utf-8")

    # --- the steps ---------------------------------------------------------------------------

    def build(self, pdf: bool) -> None:
        build(load_config(self.root), pdf=pdf, jobs=1, card_pdfs=False, search=False)
        self.built = True

    def release(self) -> None:
        release(load_config(self.root), jobs=1)
        self.pending = False

    def correct(self) -> None:
        path = self.source()
        self.corrections += 1
        text = path.read_text("utf-8")
        body = text.rsplit("\n---\n", 1)
        path.write_text(body[0] + "\n---\n" + body[1].rstrip("\n") + f" Koreksi {self.corrections}.\n", "utf-8")
        if self.released() and not self.pending:
            day = 1 + self.corrections
            text = path.read_text("utf-8")
            if "corrections:" in text:
                text = text.replace("corrections:\n", f'corrections:\n  - date: 2025-09-{day:02d}\n'
                                    f'    note: "Koreksi {self.corrections}."\n', 1)
                path.write_text(text, "utf-8")
            else:
                self.front_matter(f'corrections:\n  - date: 2025-09-{day:02d}\n    note: "Koreksi {self.corrections}."\n')
            self.pending = True

    def withdraw(self) -> None:
        if self.released() and not self.withdrawn:
            self.front_matter('withdrawn:\n  date: 2025-12-01\n  note: "Ditarik untuk uji."\n')
            self.withdrawn = True

    def rename(self) -> None:
        if not self.released() or self.slug != "kenegaraan":
            return
        for lang in ("id", "en"):
            old = self.source(lang)
            old.rename(old.with_name(f"kenegaraan-baru.{lang}.md"))
        self.slug = "kenegaraan-baru"
        self.front_matter('aliases: ["2025/kenegaraan"]\n')

    def publish(self, server, bucket: str) -> None:
        if not self.built:
            return
        pub.publish(self.root / "site", f"s3://{bucket}/{PREFIX}", endpoint=server.endpoint, delete=True,
                    allow_unreleased=True)
        now = objects(server, bucket, PREFIX)
        for key, sha in self.seen.items():      # nothing that had to stay has gone; no edition changed
            assert key in now, f"{key} lost after publish --delete"
            assert sha is None or now[key] == sha, f"{key} changed after publish --delete"
        for key in self.must_stay():
            if key in now:                      # a copy page may change (a notice); an edition never
                self.seen[key] = now[key] if key.endswith(".pdf") else None

    def must_stay(self) -> list[str]:
        """Every released edition (ledger) and every copy page of a final card (records)."""
        keys = []
        ledger = self.root / "editions.txt"
        for line in ledger.read_text().splitlines() if ledger.exists() else ():
            if line and not line.startswith("#"):
                speech, lang, number = line.split()[:3]
                keys.append(f"{PREFIX}{speech}/{speech.split('/')[1]}.{lang}.edisi-{number}.pdf")
        for record in (self.root / "editions").rglob("*.kartu.txt"):
            speech = record.parent.relative_to(self.root / "editions").as_posix()
            for line in record.read_text("utf-8").splitlines():
                if line and not line.startswith("#"):
                    keys.append(f"{PREFIX}{speech}/salinan/{line.split(chr(9))[0]}/index.html")
        return keys


_buckets = iter(range(1, 10_000))


def _run(office: Office, steps: list[str], server) -> None:
    bucket = f"lifecycle-{next(_buckets)}"
    server.client().create_bucket(Bucket=bucket)
    for step in steps:
        if step == "build":
            office.build(pdf=True)
        elif step == "build-no-pdf":
            office.build(pdf=False)
        elif step == "release":
            office.release()
        elif step == "correct":
            office.correct()
        elif step == "withdraw":
            office.withdraw()
        elif step == "rename":
            office.rename()
        else:
            office.publish(server, bucket)
    # at the end the office builds and publishes once more: everything released is there, as released
    office.build(pdf=True)
    office.publish(server, bucket)
    now = objects(server, bucket, PREFIX)
    ledger = (office.root / "editions.txt")
    shas = {}
    for line in ledger.read_text().splitlines() if ledger.exists() else ():
        if line and not line.startswith("#"):
            speech, lang, number, _date, sha = line.split()[:5]
            shas[f"{PREFIX}{speech}/{speech.split('/')[1]}.{lang}.edisi-{number}.pdf"] = sha
    for key in office.must_stay():
        assert key in now, f"{key} is not in the bucket after {steps}"
        if key in shas:
            assert now[key] == shas[key], f"{key} has other bytes than released, after {steps}"


def test_the_worst_sequence_we_know(s3, tmp_path: Path) -> None:  # noqa: F811
    """Released, published, then withdrawn, corrected, renamed and published with --delete after
    a build without PDFs: the sequence that used to remove released editions from the bucket."""
    office = Office(copy_project(tmp_path / "p"))
    _run(office, ["build", "release", "build", "publish-delete", "correct", "release", "withdraw",
                  "rename", "build-no-pdf", "publish-delete"], s3)
    assert len(office.seen) >= 6      # 3 editions 1, the corrected edition 2, 3 copy pages: all kept


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=3, max_size=8))
def test_random_office_sequences_never_lose_what_was_released_or_printed(s3, tmp_path_factory, steps) -> None:  # noqa: F811
    office = Office(copy_project(tmp_path_factory.mktemp("office") / "p"))
    _run(office, steps, s3)


def test_publish_delete_never_removes_an_edition_or_a_copy_page(s3, tmp_path: Path) -> None:  # noqa: F811
    """Even an object the site no longer lists (another build's, a hand-made bucket): a released
    edition's bytes and a copy page stay; anything else stale goes."""
    office = Office(copy_project(tmp_path / "p"))
    office.build(pdf=False)
    bucket = f"lifecycle-{next(_buckets)}"
    client = s3.client()
    client.create_bucket(Bucket=bucket)
    kept = [f"{PREFIX}2019/lama/lama.id.edisi-1.pdf", f"{PREFIX}2019/lama/salinan/dpr/index.html"]
    for key in [*kept, f"{PREFIX}2019/lama/index.html"]:
        client.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.7 old")
    said: list[str] = []
    report = pub.publish(office.root / "site", f"s3://{bucket}/{PREFIX}", endpoint=s3.endpoint, delete=True,
                         allow_unreleased=True, notice=said.append)
    now = objects(s3, bucket, PREFIX)
    assert all(key in now for key in kept)
    assert f"{PREFIX}2019/lama/index.html" not in now
    assert list(report.deleted) == [f"{PREFIX}2019/lama/index.html"]
    assert any("2 objek dipertahankan / objects kept" in line for line in said)


def test_a_renamed_speechs_old_pages_carry_the_website_redirect(s3, tmp_path: Path) -> None:  # noqa: F811
    """What goes up with each old page: the S3 website redirect header to its new URL (SeaweedFS
    keeps no such header, so the request itself is read, as the store receives it)."""
    office = Office(copy_project(tmp_path / "p"))
    for step in (lambda: office.build(pdf=True), office.release, office.rename, lambda: office.build(pdf=True)):
        step()
    bucket = f"lifecycle-{next(_buckets)}"
    client = s3.client()
    client.create_bucket(Bucket=bucket)
    sent: dict[str, str | None] = {}

    def record(params, **_) -> None:
        sent[params["Key"]] = params.get("WebsiteRedirectLocation")

    client.meta.events.register("provide-client-params.s3.PutObject", record)
    pub.publish(office.root / "site", f"s3://{bucket}/{PREFIX}", client=client, allow_unreleased=True)
    base = load_config(office.root).site.base_url
    assert sent[f"{PREFIX}2025/kenegaraan/index.html"] == f"{base}2025/kenegaraan-baru/"
    assert sent[f"{PREFIX}2025/kenegaraan/salinan/dpr/index.html"] == f"{base}2025/kenegaraan-baru/salinan/dpr/"
    assert sent[f"{PREFIX}2025/kenegaraan-baru/index.html"] is None
    assert sent[f"{PREFIX}2025/kenegaraan/kenegaraan.id.edisi-1.pdf"] is None     # the same bytes, never a redirect
    assert sum(1 for value in sent.values() if value) >= 5
