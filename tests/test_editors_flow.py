"""An editor's first hour, command by command, judged by what they read: translations made with
`new --translation-of`, a likely duplicate warned about, typos answered with the name meant, a
project found from a folder inside it, every help text in both languages."""

from __future__ import annotations

import click
from pathlib import Path

from click.testing import CliRunner

from speechgen.cli import main


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    return result.output


def test_a_translation_takes_the_originals_name_slug_and_date(project: Path) -> None:
    output = run("new", "--translation-of", "2024/lama", "--lang", "en", "-p", str(project))
    path = project / "speeches/2024/lama.en.md"
    assert f"Dibuat / created: {path}" in output
    text = path.read_text(encoding="utf-8")
    original = (project / "speeches/2024/lama.id.md").read_text(encoding="utf-8")
    front, body = text.split("\n---\n", 1)
    assert "status: draft" in front
    title = next(line for line in front.splitlines() if line.startswith("title:"))
    assert title.endswith("# terjemahkan / translate")
    date = next(line for line in original.splitlines() if line.startswith("date:"))
    assert date in front.splitlines()                             # shared, copied as it is
    assert body.strip() == original.split("\n---\n", 1)[1].strip()     # the text to translate
    # The build joins it to the original: one speech, two languages.
    run("build", str(project), "--drafts", "--no-search")
    assert (project / "site/2024/lama/en/index.html").is_file()
    assert (project / "site/2024/lama/berdampingan/index.html").is_file()     # side by side: one speech


def test_a_translation_of_a_speech_that_does_not_exist_names_the_closest(project: Path) -> None:
    output = run("new", "--translation-of", "2024/lam", "--lang", "en", "-p", str(project), code=1)
    assert "no speech speeches/2024/lam.<lang>.md" in output and "did you mean 2024/lama?" in output
    output = run("new", "--translation-of", "2024/lama", "-p", str(project), code=1)
    assert "--translation-of needs --lang" in output
    output = run("new", "--translation-of", "2025/kenegaraan", "--lang", "en", "-p", str(project), code=1)
    assert "already exists; not overwritten" in output
    assert "Usage:" in run("new", "-p", str(project), code=2)


def test_new_warns_when_a_speech_of_that_title_and_date_is_there(project: Path) -> None:
    source = (project / "speeches/2025/kenegaraan.id.md").read_text(encoding="utf-8")
    title = next(line for line in source.splitlines() if line.startswith("title:")).split(":", 1)[1].strip()
    date = next(line for line in source.splitlines() if line.startswith("date:")).split(":", 1)[1].strip()
    result = CliRunner().invoke(main, ["new", title, "--date", date, "--lang", "en", "--slug", "other",
                                       "-p", str(project)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Peringatan / warning:")]
    assert len(warnings) == 1, result.output                 # one speech, named once (not per language)
    assert "speeches/2025/kenegaraan" in warnings[0]
    assert "--translation-of 2025/kenegaraan --lang en" in warnings[0]
    quiet = CliRunner().invoke(main, ["new", "Another speech", "--date", date, "-p", str(project)])
    assert "Peringatan" not in quiet.output


def test_a_mistyped_key_is_one_problem_with_the_key_meant(project: Path) -> None:
    source = project / "speeches/2025/kenegaraan.id.md"
    source.write_text(source.read_text(encoding="utf-8").replace("\nspeaker:", "\nspeker:", 1), encoding="utf-8")
    line = source.read_text(encoding="utf-8").splitlines().index(
        next(l for l in source.read_text(encoding="utf-8").splitlines() if l.startswith("speker:"))) + 1
    output = run("check", str(project), code=1)
    problems = [l for l in output.splitlines() if l.startswith("speeches/")]
    assert problems == [f"speeches/2025/kenegaraan.id.md:{line}: unknown front matter key 'speker'; "
                        "did you mean 'speaker'? (maksud Anda 'speaker'?)"], output


def test_translations_that_differ_are_told_at_the_key(project: Path) -> None:
    source = project / "speeches/2025/kenegaraan.en.md"
    lines = source.read_text(encoding="utf-8").splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("date:"))
    lines[at] = "date: 2025-01-02"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = run("check", str(project), code=1)
    assert f"speeches/2025/kenegaraan.en.md:{at + 1}: date 2025-01-02 differs from" in output, output


def test_a_mistyped_command_is_answered_in_both_languages_with_the_closest() -> None:
    output = run("buidl", code=2)
    assert "perintah tidak dikenal / no such command 'buidl'; maksud Anda / did you mean 'build'?" in output
    assert "did you mean 'new'?" in run("keys", "nwe", code=2)


def test_outside_a_project_the_folders_searched_are_named(tmp_path: Path) -> None:
    output = run("check", str(tmp_path), code=1)
    assert f"not found in {tmp_path.resolve()} or any folder above it" in output


def test_a_folder_inside_the_project_finds_it_as_git_does(project: Path) -> None:
    output = run("build", str(project / "speeches" / "2025"), "--no-search")
    assert f"-> {project.resolve() / 'site'}" in output
    assert (project / "site/index.html").is_file()
    assert not (project / "speeches/2025/site").exists()


def test_every_help_text_is_in_both_languages() -> None:
    missing = []

    def walk(command: click.Command, path: list[str]) -> None:
        context = click.Context(command, info_name=" ".join(path))
        first = (command.help or "").split("\n")[0]
        if path != ["speechgen"] and " / " not in first:
            missing.append(f"{' '.join(path)}: {first}")
        for param in command.get_params(context):
            if isinstance(param, click.Option) and " / " not in (param.help or ""):
                missing.append(f"{' '.join(path)} {param.opts[0]}: {param.help}")
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), path + [name])

    walk(main, ["speechgen"])
    assert missing == []
    assert "Porta / port on 127.0.0.1" in run("serve", "--help")
    assert "Bantuan / show this message and exit." in run("--help")


def test_init_says_what_next_in_both_languages_and_ignores_only_the_outputs(tmp_path: Path) -> None:
    output = run("init", str(tmp_path / "p"))
    assert f"Lalu / next: speechgen build {tmp_path / 'p'}" in output
    # the site, and the private folder of embargoed speeches' card sheets (they print the titles)
    assert (tmp_path / "p/.gitignore").read_text() == "site/\nsite-embargo/\n"
    config = (tmp_path / "p/speechgen.toml").read_text()
    assert '# emblem = "static/lambang.png"' in config and "under static/" in config


def test_files_that_look_like_speeches_in_the_wrong_place_are_named_with_where_they_belong(project: Path) -> None:
    source = (project / "speeches/2024/lama.id.md").read_text(encoding="utf-8")
    (project / "pidato.id.md").write_text(source, encoding="utf-8")
    (project / "speeches/2024/baru.id.markdown").write_text(source, encoding="utf-8")
    (project / "README.md").write_text("# Catatan\n\nNot a speech.\n", encoding="utf-8")
    for command in ("build", "check"):
        output = run(command, str(project), "--no-search") if command == "build" else run(command, str(project))
        warned = [line for line in output.splitlines() if "warning" in line.lower() and (
            "pidato.id.md" in line or "baru.id.markdown" in line or "README" in line)]
        assert len(warned) == 2, output
        assert any("pidato.id.md: looks like a speech but is not read: speeches belong in "
                   "speeches/<year>/<name>.<lang>.md" in line for line in warned), output
        assert any("speeches/2024/baru.id.markdown: not read: speech files end in .md" in line
                   and "rename it baru.id.md" in line for line in warned), output
    again = run("build", str(project), "--no-search")          # nothing changed: still said
    assert "pidato.id.md: looks like a speech" in again


def test_check_and_build_count_the_same_files(project: Path) -> None:
    import re

    built = re.search(r"(\d+) berkas/files", run("build", str(project))).group(1)
    checked = re.search(r"(\d+) berkas/files", run("check", str(project))).group(1)
    assert built == checked


def test_the_readme_shows_every_option_and_no_python_api() -> None:
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands"):readme.index("## The project folder")]
    missing = []

    def walk(command: click.Command, path: list[str]) -> None:
        context = click.Context(command, info_name=" ".join(path))
        rows = [line for line in table.splitlines() if line.startswith(f"| `{' '.join(path)}")]
        for param in command.get_params(context):
            if isinstance(param, click.Option) and not {"--help", "--version"} & set(param.opts):
                if not any(option in row for row in rows for option in param.opts):
                    missing.append(f"{' '.join(path)} {param.opts[0]}")
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), path + [name])

    walk(main, ["speechgen"])
    assert missing == []
    for guide in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        if guide.name not in ("architecture.md", "benchmarks.md", "benchmarks-history.md"):
            text = guide.read_text(encoding="utf-8")
            assert "preview=True" not in text and "from speechgen" not in text, guide.name
    assert "python3 -m venv" in readme and "\nlanguage: " in readme
    assert "as git finds its repository" in readme and 'emblem = "static/lambang.png"' in readme


def test_publish_without_a_site_says_so_and_compares_nothing(project: Path) -> None:
    output = run("publish", str(project / "speeches"), "--to", "s3://arsip/pidato",
                 "--endpoint", "http://127.0.0.1:9", code=1)
    assert "Membandingkan" not in output and "comparing" not in output, output
    assert f"{project.resolve() / 'site'}: tidak ada situs / no built site here" in output, output
