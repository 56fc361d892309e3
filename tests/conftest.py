from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import Phase, settings

# tests/mutations.py asks for this profile: a failure found is reported as found, not shrunk for minutes.
settings.register_profile("found", phases=[Phase.explicit, Phase.reuse, Phase.generate])

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
    os.environ.pop("SPEECHGEN_CACHE_KEY", None)      # a CI's shared cache key: each test sets its own
    # A signing key in the caller's environment (the README's sample build exports one) is not
    # the tests' key: a test that signs sets its own.
    os.environ.pop("SPEECHGEN_SIGNING_KEY", None)
    os.environ.pop("SPEECHGEN_SIGNING_PASSPHRASE", None)


# Skip reasons that mean "a component .ci/setup --test installs is missing". On a CI (CI=true),
# where .ci/setup has run, such a skip is a failure: a test that silently stops running is a gap.
# Skips for what a machine may not allow (capabilities, mounts, a port taken) stay skips.
_MISSING_COMPONENT = ("not installed", ".ci/setup", "is missing")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _on_ci() and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if any(words in reason for words in _MISSING_COMPONENT):
            report.outcome = "failed"
            report.longrepr = f"skipped on CI, where .ci/setup --test installs what it needs: {reason}"


def _on_ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() in ("true", "1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pdf: builds in this test make the archival PDFs")


@pytest.fixture(autouse=True)
def _pdfs_only_where_asked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF costs about a second to render, so `build()` makes none unless a test is marked
    `pdf` or passes `pdf=True` (tests/test_pdf.py builds its project once per module)."""
    if request.node.get_closest_marker("pdf") is None:
        from speechgen.build import BuildOptions

        defaults = {**BuildOptions.__init__.__kwdefaults__, "pdf": False}
        monkeypatch.setattr(BuildOptions.__init__, "__kwdefaults__", defaults)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project released once (edition 1 of its three PDFs), shared by a module's
    tests; a module that changes it asks for `released_project`."""
    from speechgen.config import load_config
    from speechgen.release import release

    project = copy_project(tmp_path_factory.mktemp("released") / "project")
    assert len(release(load_config(project), jobs=1)) == 3
    return project


@pytest.fixture
def released_project(released: Path, tmp_path: Path) -> Path:
    """A fresh copy of `released` (without its site), for a test that changes it."""
    copy = tmp_path / "project"
    shutil.copytree(released, copy, ignore=shutil.ignore_patterns("site"))
    return copy


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes: compares outputs byte for byte."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def search_view(files: dict[str, bytes]) -> dict[str, bytes]:
    """Output files with the search index's files replaced by what a reader can find in it: each
    page's fragment (URL, text, metadata) from the shards and the recent bundle, less the shard
    entries `recent.json` hides. How the index is split depends on the build's history (an edit
    is indexed in the recent bundle until its shard is indexed again); what it finds must not."""
    import gzip
    import json

    listed = files.get("pagefind/recent.json")
    if listed is None:
        return files
    hidden = set(json.loads(listed)["hidden"])
    found: dict[str, dict[str, dict]] = {}     # URL -> {Pagefind id: fragment} a reader can get
    for dest in files:
        if dest.startswith("pagefind/") and dest.endswith(".pf_fragment"):
            page_id = dest.rsplit("/", 1)[1][:-len(".pf_fragment")]
            if page_id in hidden and not dest.startswith("pagefind/recent/"):
                continue
            data = json.loads(gzip.decompress(files[dest])[len(b"pagefind_dcd"):])
            found.setdefault(data["url"], {})[page_id] = data
    found = {url: sorted(json.dumps(d, sort_keys=True) for d in by_id.values()) for url, by_id in found.items()}
    view = {d: b for d, b in files.items() if not d.startswith("pagefind/")}
    view["pagefind (what a reader finds)"] = json.dumps(found, sort_keys=True, ensure_ascii=False).encode()
    return view


def refused(project: Path, *expected: str, command: str = "build", options: tuple[str, ...] = ("--no-search",)) -> str:
    """A command on the project refused: exit 1, no traceback, each expected line said, and the
    site exactly as it was (or still absent)."""
    from click.testing import CliRunner

    from speechgen.cli import main

    site = project / "site"
    before = tree_bytes(site) if site.exists() else None
    result = CliRunner().invoke(main, [command, str(project), *options])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output
    assert (tree_bytes(site) if site.exists() else None) == before
    return result.output


def build_fails(project: Path, *expected: str) -> str:
    """`speechgen build --no-pdf` refused (see `refused`)."""
    return refused(project, *expected, options=("--no-search", "--no-pdf"))
