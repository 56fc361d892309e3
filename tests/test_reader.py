from __future__ import annotations

from pathlib import Path

from speechgen.config import load_config
from speechgen.reader import read_project


def test_reads_versions_translations_and_drafts(project: Path) -> None:
    config = load_config(project)
    sources = read_project(config)
    assert [s.id for s in sources.speeches] == ["2025/kenegaraan", "2024/lama"]
    speech = sources.speeches[0]
    assert list(speech.versions) == ["id", "en"]
    assert speech.versions["en"].title == "Test State Address"
    assert speech.recipients == ("lembaga-negara", "arsip")
    assert [r.id for r in sources.recipients] == ["dpr", "mpr", "arsip"]
    assert "draf" in [s.slug for s in read_project(config, drafts=True).speeches]


def test_yaml_11_booleans_stay_text(project: Path) -> None:
    (project / "speeches/2025/kenegaraan.en.md").write_text(
        "---\ntitle: NO\nsubtitle: yes\nspeaker: On\ndate: 2025-08-15\n---\nText\n")
    speech = read_project(load_config(project)).speeches[0]
    en = speech.versions["en"]
    assert (en.title, en.subtitle, en.speaker) == ("NO", "yes", "On")


def test_crlf_sources_read_like_lf(project: Path) -> None:
    path = project / "speeches/2024/lama.id.md"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    speech = next(s for s in read_project(load_config(project)).speeches if s.slug == "lama")
    assert speech.primary.title == "Pidato Lama"
