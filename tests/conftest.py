from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def copy_project(dest: Path, overlay: Path | None = None) -> Path:
    """A fresh copy of the fixture project, with a broken case's files laid over it."""
    shutil.copytree(FIXTURES / "project", dest)
    if overlay is not None and overlay.is_dir():
        shutil.copytree(overlay, dest, dirs_exist_ok=True)
    return dest


@pytest.fixture(autouse=True, scope="session")
def _private_cache_and_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The build's cache and its key live in the user's folders: give the tests their own."""
    import os

    base = tmp_path_factory.mktemp("user")
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
    os.environ["XDG_STATE_HOME"] = str(base / "state")
    os.environ.pop("SPEECHGEN_CACHE_DIR", None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pdf: builds in this test make the archival PDFs")


@pytest.fixture(autouse=True)
def _pdfs_only_where_asked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF costs about a second to render, so `build()` makes none unless a test is marked
    `pdf` or passes `pdf=True` (tests/test_pdf.py builds its project once per module)."""
    if request.node.get_closest_marker("pdf") is None:
        from speechgen import build as build_module

        defaults = {**build_module.build.__kwdefaults__, "pdf": False}
        monkeypatch.setattr(build_module.build, "__kwdefaults__", defaults)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes: compares outputs byte for byte."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}
