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


def test_what_the_hardening_still_accepts(project: Path) -> None:
    """Links inside the project, multi-line addresses, an address repeated with an alias, far
    dates in their four-digit folder, text in any script: all read as before."""
    import os

    (project / "naskah").mkdir()
    (project / "naskah/asli.md").write_text("---\ntitle: Pidato Tertaut\nspeaker: Menteri\ndate: 2025-03-01\n---\n\nTeks.\n")
    os.symlink(project / "naskah/asli.md", project / "speeches/2025/tertaut.id.md")
    (project / "speeches/0999").mkdir()
    (project / "speeches/0999/kuno.id.md").write_text(
        "---\ntitle: \"Pidato ꦥꦶꦢꦠꦺꦴ — خطاب — 演讲\"\nspeaker: Raja\ndate: 0999-12-31\n---\n\nTeks.\n")
    (project / "recipients.yaml").write_text(
        "recipients:\n"
        "  - id: dpr\n    name: Dewan Perwakilan Rakyat\n    group: lembaga-negara\n"
        "    address: &senayan |\n      Jalan Jenderal Gatot Subroto\n      Jakarta 10270\n"
        "  - id: mpr\n    name: Majelis Permusyawaratan Rakyat\n    group: lembaga-negara\n    address: *senayan\n"
        "  - id: arsip\n    name: Arsip Nasional\n    group: arsip\n")
    sources = read_project(load_config(project))
    by_id = {s.id: s for s in sources.speeches}
    assert by_id["2025/tertaut"].primary.title == "Pidato Tertaut"
    assert by_id["0999/kuno"].primary.title == "Pidato ꦥꦶꦢꦠꦺꦴ — خطاب — 演讲"
    addresses = [r.address for r in sources.recipients]
    assert addresses[0] == addresses[1] == "Jalan Jenderal Gatot Subroto\nJakarta 10270"


def test_a_line_break_is_allowed_in_an_address_only(project: Path) -> None:
    import pytest

    from speechgen.errors import SourceError

    (project / "recipients.yaml").write_text(
        "recipients:\n  - id: dpr\n    name: \"Dewan\\nPerwakilan\"\n    address: \"Jalan\\tSatu\"\n")
    with pytest.raises(SourceError) as caught:
        read_project(load_config(project))
    lines = caught.value.lines()
    assert "recipients.yaml:3: recipient name contains the control character U+000A at character 6: it does not " \
           "show, or changes how the text around it shows, so a name could print as another; remove it" in lines
    assert any(line.startswith("recipients.yaml:4: recipient address contains the control character U+0009")
               for line in lines)


def test_ten_thousand_institutions_with_addresses_are_read(tmp_path: Path) -> None:
    """A national mailing list in the usual form (several lines each, about 2 MB) is not refused."""
    import shutil

    from conftest import FIXTURES
    from speechgen.errors import Problems
    from speechgen.reader import read_recipients

    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", project)
    lines = ["recipients:"]
    for n in range(10_000):
        lines += [f"  - id: lembaga-{n}", f"    name: Lembaga Negara Contoh Nomor {n} Republik Contoh",
                  f"    short_name: LNC{n}", "    group: lembaga-negara",
                  f"    address: Jalan Merdeka Barat No. {n}, Kota Contoh 10110"]
    (project / "recipients.yaml").write_text("\n".join(lines) + "\n")
    assert (project / "recipients.yaml").stat().st_size > 1024 * 1024
    problems = Problems(project)
    found = read_recipients(load_config(project), problems)
    assert not problems and len(found) == 10_000 and found[-1].line == 5 * 9_999 + 2


def test_a_remembered_reading_gives_back_every_field(project: Path) -> None:
    """`parsed_record` keeps a field list of its own: a field it forgot would come back as its
    default in every build that recalls the source. Every field of the richest source is set
    here, and every one must come back (texts by digest)."""
    import dataclasses

    from speechgen import memo, reader
    from speechgen.errors import Problems
    from speechgen.model import Version

    source = project / "speeches" / "2025" / "kenegaraan.id.md"
    source.write_text(source.read_text("utf-8").replace(
        "\n---\n", '\nsummary: Ringkasan uji.\nembargo: 2025-08-16T09:00:00+07:00\ncorrections:\n'
        '  - date: 2025-09-01\n    note: "Satu."\n---\n', 1),
        "utf-8")
    config = load_config(project)
    problems = Problems(config.root)
    parsed = reader.read_source(source, config, problems)
    assert parsed is not None and not problems.items
    unset = [f.name for f in dataclasses.fields(Version) if getattr(parsed.version, f.name) == f.default]
    assert unset == [], f"give these a value in this test: {unset}"
    assert memo.parsed_from_record(memo.parsed_record(parsed), source) == parsed
