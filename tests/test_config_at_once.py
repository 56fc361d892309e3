"""Every problem of speechgen.toml in one build, under one path rule for the files it names: a
path from the project folder to a file in static/, "not found" when it is missing, and the path
meant when the value leaves out `static/`."""

from __future__ import annotations

from pathlib import Path

from conftest import build_fails


def _config(project: Path, *, base_url: str | None = None, pdf: str = "") -> None:
    path = project / "speechgen.toml"
    text = path.read_text("utf-8")
    if base_url is not None:
        text = text.replace('base_url = "https://pidato.example.go.id/arsip/"', f'base_url = "{base_url}"', 1)
    path.write_text(text + (f"\n[pdf]\n{pdf}\n" if pdf else ""), "utf-8")


def test_an_http_base_url_and_a_bad_emblem_are_said_together(project: Path) -> None:
    _config(project, base_url="http://pidato.example.go.id/arsip/", pdf='emblem = "lambang.png"')
    output = build_fails(project,
                         "[pdf] emblem 'lambang.png' must be a PNG or JPEG file in static/",
                         "did you mean 'static/lambang.png'?",
                         "[site] base_url 'http://pidato.example.go.id/arsip/' must start with https://")
    assert "2 masalah" in output and "2 problems" in output


def test_a_missing_file_in_static_is_not_found(project: Path) -> None:
    _config(project, pdf='emblem = "static/tidak-ada.png"\nfonts = ["static/fonts/Tidak.ttf"]')
    build_fails(project,
                f"[pdf] emblem 'static/tidak-ada.png': not found (tidak ditemukan): {project.resolve()}/static/tidak-ada.png",
                "[pdf] fonts 'static/fonts/Tidak.ttf': not found (tidak ditemukan)")


def test_a_folder_is_not_a_file(project: Path) -> None:
    (project / "static/lambang-folder.png").mkdir()
    _config(project, pdf='emblem = "static/lambang-folder.png"')
    build_fails(project, "[pdf] emblem 'static/lambang-folder.png': not a file (bukan berkas)")


def test_a_source_problem_stops_before_the_site_is_made(project: Path) -> None:
    """Config problems wait for the site's; a broken source still stops the build at once."""
    _config(project, base_url="http://pidato.example.go.id/arsip/", pdf='emblem = "static/tidak-ada.png"')
    source = project / "speeches/2025/kenegaraan.id.md"
    source.write_text(source.read_text("utf-8").replace("date: 2025-08-15", "date: 2025-02-30", 1), "utf-8")
    output = build_fails(project, "[pdf] emblem 'static/tidak-ada.png': not found", "speeches/2025/kenegaraan.id.md")
    assert "base_url" not in output
