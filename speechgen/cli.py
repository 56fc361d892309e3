"""Thin click commands. Each calls the library; errors become messages and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from speechgen import __version__
from speechgen.errors import SpeechgenError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
PROJECT = click.argument("project", default=".", type=click.Path(file_okay=False, path_type=Path))


def _fail(error: SpeechgenError) -> None:
    lines = error.lines()
    for line in lines:
        click.echo(line, err=True)
    count = len(lines)
    click.secho(f"Gagal: {count} masalah; tidak ada yang diterbitkan. / "
                f"Failed: {count} problem{'s' if count != 1 else ''}; nothing was published.",
                err=True, fg="red")
    sys.exit(1)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="speechgen")
def main() -> None:
    """speechgen: menerbitkan pidato kenegaraan sebagai situs statis, PDF arsip dan kartu QR.

    Publishes state speeches as a static site, archival PDFs and a QR card for every recipient
    institution. Run `speechgen COMMAND --help` for the options of each command.
    """


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder keluaran / output folder (default: PROJECT/site).")
@click.option("--drafts", is_flag=True, help="Sertakan draf / include speeches with status: draft.")
@click.option("--quiet", "-q", is_flag=True, help="Hanya galat / print errors only.")
def build(project: Path, out: Path | None, drafts: bool, quiet: bool) -> None:
    """Bangun situs / build the site from PROJECT (default: this folder).

    The build is atomic: it is written beside the output folder and swapped in only when
    everything succeeded, so a failed build leaves the previous site as it was.
    """
    from speechgen.build import build as run_build
    from speechgen.config import load_config

    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    try:
        config = load_config(project)
        report = run_build(config, out=out, drafts=drafts, log=log)
    except SpeechgenError as error:
        _fail(error)
        return
    if not quiet:
        click.echo(f"Selesai / done: {report.speeches} pidato/speeches, {report.files} berkas/files "
                   f"in {report.seconds:.1f} s -> {report.out}")
