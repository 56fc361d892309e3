from __future__ import annotations

from pathlib import Path

import pytest

from speechgen.config import load_config
from speechgen.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "speechgen.toml").write_text(text)
    return tmp_path


def test_defaults_and_trailing_slash(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[site]\ntitle = "A"\nbase_url = "https://x.example/arsip"\n'))
    assert config.site.base_url == "https://x.example/arsip/"
    assert config.site.languages == ("id", "en") and config.site.default_language == "id"
    assert config.pdf.page_size == "A4" and config.pdf.variant == "pdf/a-3u"


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = ('[site]\ntitle = ""\nbase_url = "ftp://x"\nlanguages = ["id", "id"]\ncolour = 1\n'
            '[pdf]\npage_size = "A3"\n[qrr]\n')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    lines = info.value.lines()
    assert "speechgen.toml:2: [site] title must not be empty" in lines
    assert any(l.startswith("speechgen.toml:3: [site] base_url must be an absolute") for l in lines)
    assert "speechgen.toml:4: [site] languages lists a language twice" in lines
    assert any(l.startswith("speechgen.toml:5: unknown key 'colour' in [site]") for l in lines)
    assert "speechgen.toml:7: [pdf] page_size must be one of A4, A5, B5, Letter" in lines
    assert any(l.startswith("speechgen.toml:8: unknown section [qrr]") for l in lines)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="speechgen.toml: not found"):
        load_config(tmp_path)


def test_default_language_must_be_listed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default_language 'fr' is not in languages"):
        load_config(write(tmp_path, '[site]\ntitle = "A"\nbase_url = "https://x.example/"\ndefault_language = "fr"\n'))
