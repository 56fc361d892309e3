"""Thin click commands. Each calls the library; errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from speechgen import __version__
from speechgen.errors import Problems, SourceError, SpeechgenError, display_path

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
class _Path(click.Path):
    """click.Path that refuses a NUL first: click would stat it and raise a traceback."""

    def convert(self, value, param, ctx):
        if "\x00" in os.fspath(value):
            self.fail("contains a NUL character", param, ctx)
        return super().convert(value, param, ctx)


PROJECT = click.argument("project", default=".", type=_Path(file_okay=False, path_type=Path))


def _fail(error: SpeechgenError, published: bool = True) -> None:
    lines = error.lines()
    for line in lines:
        click.echo(line, err=True)
    count = len(lines)
    if published:
        click.secho(f"Gagal: {count} masalah; tidak ada yang diterbitkan. / "
                    f"Failed: {count} problem{'s' if count != 1 else ''}; nothing was published.",
                    err=True, fg="red")
    else:
        click.secho(f"Gagal: {count} masalah. / Failed: {count} problem{'s' if count != 1 else ''}.",
                    err=True, fg="red")
    sys.exit(1)


def _system_error(error: OSError, project: Path) -> SpeechgenError:
    """An OSError no stage turned into a message: the file it names (else the project) and why."""
    from speechgen.writer import reason_of

    where = error.filename if isinstance(error.filename, str) and Path(error.filename).is_absolute() \
        else str(project.absolute())
    return SpeechgenError(f"{where}: cannot build: {reason_of(error)}")


class _Command(click.Command):
    """A command whose --help says what it does in both languages."""

    def get_help_option(self, ctx: click.Context):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "Bantuan / show this message and exit."
        return option


class _Group(_Command, click.Group):
    """speechgen's commands: a mistyped one is answered in both languages, with the closest name."""

    command_class = _Command
    group_class = type                  # a group inside (keys) is one of these too

    def resolve_command(self, ctx: click.Context, args: list[str]):
        import difflib

        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            ctx.fail(f"perintah tidak dikenal / no such command {name!r}"
                     + (f"; maksud Anda / did you mean {close[0]!r}?" if close else
                        f"; the commands: {', '.join(self.list_commands(ctx))}"))
        return super().resolve_command(ctx, args)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="speechgen", help="Versi / show the version and exit.")
def main() -> None:
    """speechgen: menerbitkan pidato kenegaraan sebagai situs statis, PDF arsip dan kartu QR.

    Publishes state speeches as a static site, archival PDFs and a QR card for every recipient
    institution. Run `speechgen COMMAND --help` for the options of each command.
    """


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--out", "-o", type=_Path(file_okay=False, path_type=Path), default=None,
              help="Folder keluaran / output folder (default: PROJECT/site).")
@click.option("--drafts", is_flag=True, help="Sertakan draf / include speeches with status: draft.")
@click.option("--quiet", "-q", is_flag=True, help="Hanya galat / print errors only.")
@click.option("--verbose", "-v", is_flag=True, help="Rinci / every stage with its time.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Proses PDF paralel / PDF worker processes (default: every core).")
@click.option("--no-pdf", is_flag=True, help="Tanpa PDF / skip the archival PDFs this time.")
@click.option("--no-search", is_flag=True, help="Tanpa indeks pencarian / skip the search index this time.")
@click.option("--require-released", is_flag=True,
              help="Gagal bila ada PDF belum dirilis / fail on any PDF that is not a released edition (for CI).")
@click.option("--require-signed", is_flag=True,
              help="Gagal tanpa kunci tanda tangan / fail when the manifest cannot be signed (no key given).")
@click.option("--at", "at", default=None, metavar="TIME", callback=lambda c, p, v: _moment(v, p),
              help="Bangun per waktu / build as of TIME (e.g. 2025-08-16T09:00:00+07:00) instead of the clock: "
                   "which embargoes have passed.")
def build(project: Path, out: Path | None, drafts: bool, quiet: bool, verbose: bool,
          jobs: int | None, no_pdf: bool, no_search: bool, require_released: bool, require_signed: bool,
          at=None) -> None:
    """Bangun situs / build the site from PROJECT (default: this folder).

    The build is atomic: it is written beside the output folder and swapped in only when
    everything succeeded, so a failed build leaves the previous site as it was; a second build
    into the same folder waits for the first. PDFs are rendered in parallel, and what a build
    made is kept in your cache folder (~/.cache/speechgen, or $SPEECHGEN_CACHE_DIR), so an
    unchanged page or speech is never rendered twice, and a project that has not changed since
    the last build into the same folder is not even read.
    """
    from speechgen.build import BuildOptions, build as run_build
    from speechgen.config import load_config

    started = time.perf_counter()

    def log(message: str) -> None:
        if verbose and not quiet:
            click.echo(f"[{time.perf_counter() - started:6.2f}s] {message}", err=True)

    progress = _PdfProgress()
    try:
        config = load_config(project)
        switches = {"pdf": False} if no_pdf else {}      # otherwise [pdf] enabled decides
        if no_search:
            switches["search"] = False
        report = run_build(config, BuildOptions(
            out=out, drafts=drafts, log=log, jobs=jobs, progress=None if quiet else progress,
            notice=(lambda m: None) if quiet else (lambda m: click.echo(m, err=True)),
            require_released=require_released, require_signed=require_signed, at=at, **switches))
    except SpeechgenError as error:
        progress.close()
        _fail(error)
        return
    except OSError as error:
        # A failure of the system outside the writer (a renderer's scratch file, the search
        # index's folder): still `path: reason`, never a traceback. The writer removed its folder.
        progress.close()
        _fail(_system_error(error, project))
        return
    finally:
        progress.close()
    if not quiet:
        click.echo(f"Selesai / done: {report.speeches} pidato/speeches, {report.files} berkas/files "
                   f"in {report.seconds:.1f} s -> {report.out}")
        _summary(report)


def _moment(value: str | None, param: click.Parameter):
    """--at TIME: a moment with its offset from UTC, as `embargo:` is written."""
    if value is None:
        return None
    from speechgen.reader import embargo_moment

    problems = Problems(Path("."))
    moment = embargo_moment(value, "--at", 0, problems)
    if moment is None:
        raise click.BadParameter(problems.items[0].message.replace("embargo", "time", 1), param=param)
    return moment


def _summary(report) -> None:
    """What a user should know about a finished build: drafts left out, PDFs not released,
    speeches held back by an embargo."""
    for speech, lang, opens in getattr(report, "embargoed", ()):
        click.echo(f"Embargo: {speech} ({lang}) tidak diterbitkan sampai / not published until {opens}")
    if report.drafts:
        click.echo(f"Draf dilewati / drafts left out ({len(report.drafts)}): {', '.join(report.drafts[:5])}"
                   + (" ..." if len(report.drafts) > 5 else ""))
    if report.proofs:
        click.echo(f"Kartu cetak coba / proof card sheets ({len(report.proofs)}): {', '.join(report.proofs[:5])}"
                   + (" ..." if len(report.proofs) > 5 else "")
                   + "; every card says PROOF and carries no fingerprint until `speechgen release`")
    if report.unreleased:
        names = ", ".join(f"{s} ({lang})" for s, lang in report.unreleased[:5])
        click.echo(f"Belum dirilis / not yet released ({len(report.unreleased)}): {names}"
                   + (" ..." if len(report.unreleased) > 5 else "")
                   + "; run `speechgen release` before printing cards")


class _PdfProgress:
    """A progress bar for the PDFs on a terminal; a plain line per PDF otherwise (logs, CI)."""

    def __init__(self) -> None:
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if done == 0:
            if total and sys.stderr.isatty():
                self.bar = click.progressbar(length=total, label="PDF", file=sys.stderr, show_pos=True)
                self.bar.__enter__()
            return
        if self.bar is not None:
            self.bar.update(done - self.done)
            if done == total:
                self.bar.__exit__(None, None, None)
                self.bar = None
        else:
            click.echo(f"PDF {done}/{total}", err=True)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--dry-run", "-n", is_flag=True, help="Tampilkan saja / show what would be released, write nothing.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Proses PDF paralel / PDF worker processes (default: every core).")
@click.option("--unsigned", is_flag=True,
              help="Rilis tanpa tanda tangan / release without the signing key although [signing] names a certificate.")
def release(project: Path, dry_run: bool, jobs: int | None, unsigned: bool) -> None:
    """Rilis edisi / freeze every unreleased PDF as an edition.

    Each published speech's PDF, per language, not yet released as it is becomes an edition:
    its bytes and source are kept under editions/ and a line is added to editions.txt (commit
    both with the sources). From then on every build serves these exact bytes. A released
    speech changes only with a `corrections:` entry in its front matter; the next release
    makes that the next edition, and every edition stays at its own URL. When speechgen.toml
    names a [signing] certificate, each new edition is signed (PAdES) with the key given by
    SPEECHGEN_SIGNING_KEY and SPEECHGEN_SIGNING_PASSPHRASE before it is kept.
    """
    from speechgen.config import load_config
    from speechgen.release import release as run_release
    from speechgen.model import fingerprint

    progress = _PdfProgress()
    try:
        config = load_config(project)
        added = run_release(config, dry_run=dry_run, jobs=jobs, unsigned=unsigned, progress=progress,
                            notice=lambda m: click.echo(m, err=True))
    except SpeechgenError as error:
        progress.close()
        _fail(error, published=False)
        return
    except OSError as error:
        progress.close()
        _fail(_system_error(error, project), published=False)
        return
    finally:
        progress.close()
    if not added:
        click.echo("Tidak ada yang dirilis / nothing to release: every PDF is a released edition as it is.")
        return
    verb = "akan dirilis / would be released" if dry_run else "dirilis / released"
    for entry in added:
        click.echo(f"{entry.speech} ({entry.lang}): edisi/edition {entry.number}, {entry.date}, "
                   f"{entry.pages} hlm/pages, {fingerprint(entry.sha256)}")
    click.echo(f"{len(added)} edisi {verb}" + ("" if dry_run else
               f"; commit {config.ledger_file.name} and {config.editions_dir.name}/ with the sources"))


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--within", "within", type=click.IntRange(0, 36500), default=365, show_default=True, metavar="DAYS",
              help="Batas hari / renew when the last timestamp's TSA certificate ends within DAYS.")
@click.option("--dry-run", "-n", is_flag=True, help="Tampilkan saja / list what would be renewed, change nothing.")
def renew(project: Path, within: int, dry_run: bool) -> None:
    """Perbarui cap waktu / add a fresh document timestamp to editions whose evidence ages.

    Every released edition whose last timestamp was made by a time-stamping authority whose
    certificate ends within DAYS gets one incremental update: the validation data of that TSA's
    chain and a new document timestamp from [signing] timestamp_url. The kept file is replaced
    (its old bytes stay its first bytes) and editions.txt records the new revision's SHA-256
    beside the old; both revisions verify as that edition. Commit both; the next build serves
    the renewed file. Run it yearly.
    """
    from speechgen.config import load_config
    from speechgen.release import renew as run_renew
    from speechgen.model import fingerprint

    try:
        config = load_config(project)
        looked = run_renew(config, within_days=within, dry_run=dry_run, notice=lambda m: click.echo(m, err=True))
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    except OSError as error:
        _fail(_system_error(error, project), published=False)
        return
    due = [item for item in looked if item.due]
    for item in looked:
        e = item.entry
        said = (f"{e.speech} ({e.lang}) edisi/edition {e.number}: sertifikat TSA berakhir / TSA certificate ends "
                f"{item.tsa_until:%Y-%m-%d} ({item.tsa})")
        if not item.due:
            click.echo(f"{said}; belum perlu / not due")
        elif dry_run:
            click.echo(f"{said}; akan diperbarui / would be renewed")
        else:
            click.echo(f"{said}; diperbarui / renewed: {fingerprint(e.current_sha256)} -> "
                       f"{fingerprint(item.sha256)}, sertifikat TSA baru berakhir / new TSA certificate ends "
                       f"{item.until:%Y-%m-%d}")
    if not due:
        click.echo(f"Tidak ada yang diperbarui / nothing to renew: no timestamp's TSA certificate ends within "
                   f"{within} days.")
        return
    verb = "akan diperbarui / would be renewed" if dry_run else "diperbarui / renewed"
    click.echo(f"{len(due)} edisi {verb}" + ("" if dry_run else
               f"; commit {config.ledger_file.name} and {config.editions_dir.name}/, then build"))


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--drafts", is_flag=True, help="Periksa draf juga / check drafts too.")
def check(project: Path, drafts: bool) -> None:
    """Periksa proyek / check PROJECT without writing anything.

    Validates everything a build validates (sources, recipients, config, templates, PDFs) and
    every internal link and anchor of the rendered site, and reads every QR code back from its
    image to the URL of its copy. Exit 1 with every problem listed.
    """
    from speechgen.check import check_project
    from speechgen.config import load_config

    warnings: list = []
    try:
        config = load_config(project)
        report, problems = check_project(config, drafts=drafts, warnings=warnings)
        if problems:
            raise SourceError(problems)
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    for warning in warnings:
        where = display_path(warning.path, config.root) + (f":{warning.line}" if warning.line else "")
        click.secho(f"Peringatan / warning: {where}: {warning.message}", fg="yellow", err=True)
    click.echo(f"Baik / OK: {report.speeches} pidato/speeches, {report.files} berkas/files, "
               f"{report.copies} kode QR/QR codes checked"
               + (f"; {len(warnings)} peringatan/warnings: replace the placeholders before printing cards"
                  if warnings else ""))
    _summary(report)


@main.command(context_settings=CONTEXT)
@click.argument("title", required=False)
@click.option("--date", "date_", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Tanggal / date, YYYY-MM-DD (default: today).")
@click.option("--lang", default=None, help="Bahasa / language code (default: the project's default).")
@click.option("--speaker", default="Nama Pembicara", show_default=True, help="Pembicara / speaker.")
@click.option("--slug", default=None, help="Nama di URL / slug, the speech's name in its URL (default: from the title).")
@click.option("--translation-of", "translation_of", default=None, metavar="YEAR/NAME",
              help="Terjemahan dari / write the translation into --lang of the speech "
                   "speeches/YEAR/NAME.<lang>.md (same name and slug; no TITLE).")
@click.option("--project", "-p", type=_Path(file_okay=False, path_type=Path), default=Path("."),
              help="Folder proyek / project folder (default: this folder).")
def new(title: str | None, date_, lang: str | None, speaker: str, slug: str | None, translation_of: str | None,
        project: Path) -> None:
    """Pidato baru / write a new speech file with complete front matter.

    The file is written as a draft (status: draft) under speeches/<year>/; build with --drafts to
    see it, and remove the status line to publish it.

    A translation is the same speech in another language: the same folder and name, only the
    language differs (speeches/2025/pidato.id.md and speeches/2025/pidato.en.md). Write it with
    `speechgen new --translation-of 2025/pidato --lang en`: the original's date and slug, its
    title and other texts marked "translate", its text to translate below.
    """
    from speechgen.scaffold import new_speech, new_translation

    if translation_of is not None:
        if title is not None or date_ is not None or slug is not None:
            raise click.UsageError("--translation-of takes no TITLE, --date or --slug: a translation has "
                                   "the original's (terjemahan memakai judul, tanggal dan slug aslinya)")
    elif title is None:
        raise click.UsageError("judul belum diberikan / missing TITLE (or --translation-of YEAR/NAME)")
    warnings: list[str] = []
    try:
        if translation_of is not None:
            path = new_translation(project, translation_of, lang)
        else:
            path = new_speech(project, title, date=date_.date() if date_ else None, lang=lang,
                              speaker=speaker, slug=slug, warn=warnings.append)
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    click.echo(f"Dibuat / created: {path} (draf / draft: `build` leaves it out until you remove "
               "`status: draft`; `build --drafts` and `serve` show it)")
    for warning in warnings:
        click.secho(f"Peringatan / warning: {warning}", fg="yellow", err=True)


@main.command(context_settings=CONTEXT)
@click.argument("folder", type=_Path(file_okay=False, path_type=Path))
@click.option("--title", default="Arsip Pidato", show_default=True, help="Judul situs / site title.")
def init(folder: Path, title: str) -> None:
    """Proyek baru / create a new project in FOLDER that builds as it is."""
    from speechgen.scaffold import init_project

    try:
        files = init_project(folder, title=title)
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    for path in files:
        click.echo(f"  {path}")
    click.echo(f"Proyek dibuat / project created. Lalu / next: speechgen build {folder}")


@main.command(context_settings=CONTEXT)
@click.argument("pdf", type=_Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--site", "-s", default=None,
              help="Folder situs hasil build, atau URL situs / the built site folder, or the site's URL "
                   "(default: site, when this folder holds a built site; with a pinned certificate, only for "
                   "a PDF inside it).")
@click.option("--latest", is_flag=True, help="Hanya edisi terbaru / a superseded edition fails (exit 1).")
@click.option("--certificate", "-c", type=_Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Sertifikat penerbit / the publisher's certificate (PEM) to check the signature against.")
@click.option("--fingerprint", "-f", default=None,
              help="Sidik sertifikat / the publisher certificate's SHA-256, as printed on the site and cards.")
@click.option("--tsa-certificate", "tsa_certificates", multiple=True, metavar="ROOT.pem",
              type=_Path(dir_okay=False, exists=True, path_type=Path),
              help="Akar otoritas cap waktu / the root of a time-stamping authority not under the pinned "
                   "certificate, trusted for timestamps only (repeatable).")
def verify(pdf: Path, site: str | None, latest: bool, certificate: Path | None, fingerprint: str | None,
           tsa_certificates: tuple[Path, ...]) -> None:
    """Periksa PDF / tell whether PDF is the one the site published, and who signed it.

    Compares the file's SHA-256 with every PDF in the site's manifest.json, every edition
    included. With --certificate or --fingerprint (the publisher's, pinned: printed on every
    page footer and card), also checks the PDF's signature offline: who signed, when, whether
    anything was changed after signing; with --site as well, the manifest's signature
    (manifest.json.p7s). Exit 0 when everything checked is authentic, 1 otherwise; with
    --latest, a superseded edition is 1 too.
    """
    from speechgen.graph import MANIFEST, MANIFEST_SIGNATURE
    from speechgen.signing import fingerprint_for_print
    from speechgen.verify import verify as run_verify

    pinned = certificate is not None or fingerprint is not None
    if site is None and (not pinned or (Path("site", MANIFEST).is_file() and pdf.resolve().is_relative_to(
            Path("site").resolve()))):
        site = "site"           # the built site here, the PDF's own: with a pin, its signed manifest is checked too
    try:
        verdict = run_verify(pdf, site, certificate=certificate, fingerprint=fingerprint,
                             tsa_certificates=tsa_certificates)
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    click.echo(f"SHA-256 {verdict.sha256}\nSidik / fingerprint: {verdict.fingerprint}")
    match = verdict.match
    # Every check first: nothing is called authentic before all of them are known.
    signatures: list[tuple[str, object]] = []
    proven = True
    if pinned:
        if site is not None:
            if verdict.manifest_signature is not None:
                signatures.append((MANIFEST, verdict.manifest_signature))
                proven &= verdict.manifest_signature.ok
            else:
                proven = False
        report = verdict.signature
        vouched = (not report.signed and verdict.manifest_signature is not None
                   and verdict.manifest_signature.ok and match is not None)
        if not vouched:
            signatures.append(("PDF", report))
            proven &= report.ok
    failed = not proven or (site is not None and match is None)
    if site is not None and match is None:
        click.secho(f"Tidak cocok / No match: {pdf.name} is not a PDF published in {verdict.manifest}. "
                    "Jangan percayai isinya / do not rely on its content.", fg="red", err=True)
    elif match is not None:
        what = (f"the published PDF of {match.title!r} ({match.speech}, {match.lang}, {match.date})"
                + (" as signed, with validation data added since" if verdict.maintained else "")
                + (" (revisi sebelumnya / an earlier revision: the site serves it with a newer timestamp "
                   "added)" if match.earlier_revision else ""))
        if proven:
            click.secho(f"Cocok / Match: {pdf.name} is {what}", fg="green")
        else:
            click.secho(f"Tidak terbukti asli / Not proven authentic: {pdf.name} has the SHA-256 listed for "
                        f"{what}, but a signature check below failed", fg="red", err=True)
        if match.edition:
            edition = f"  {'authentic, ' if proven else ''}edisi/edition {match.edition} of {match.editions}"
            if not match.released:
                edition += " (belum dirilis / not yet released)"
            if match.superseded:
                when = "" if match.superseded == "-" else f" on {match.superseded}"
                edition += f", superseded{when}" + (f": {match.superseded_note}" if match.superseded_note else "")
            click.echo(edition, err=not proven)
        if match.withdrawal:
            click.secho(f"  {match.withdrawal}", fg="yellow", err=not proven)
        click.echo(f"  {match.url}", err=not proven)
        if latest and not match.latest:
            click.secho(f"Bukan edisi terbaru / not the latest edition (--latest): edition {match.edition} "
                        "was corrected since; " + (f"the latest (terbaru): {match.latest_url}" if match.latest_url
                                                   else "download the latest from the speech page."),
                        fg="red", err=True)
            failed = True
    if pinned:
        if site is not None and verdict.manifest_signature is None:
            click.secho(f"{MANIFEST}: tidak ditandatangani / the site's manifest carries no signature "
                        f"({MANIFEST_SIGNATURE})", fg="red", err=True)
        for step in verdict.renewals:
            click.secho(f"Sertifikat diperbarui pada / certificate renewed on {step.date}, dijamin oleh / "
                        f"vouched for by {fingerprint_for_print(step.old)} ({step.signer}) -> "
                        f"{fingerprint_for_print(step.new)}", fg="green" if proven else None, err=not proven)
        for problem in verdict.renewal_problems:
            click.secho(f"  {problem}", fg="red", err=True)
        for what, report in signatures:
            _signature_lines(what, report)
            if what == "PDF" and not report.signed and site is None:
                click.echo("  petunjuk / hint: a PDF released before signing was set up is vouched for by the "
                           "site's signed manifest: give --site DIR-or-URL (the built folder or the site's address)",
                           err=True)
        if verdict.signature is not None and not verdict.signature.signed and \
                all(what != "PDF" for what, _ in signatures):
            # Released before the project was signed: its bytes stay, the signed manifest vouches.
            click.secho("PDF: tidak ditandatangani sendiri / not signed itself (released before signing was "
                        "set up); its SHA-256 is in the publisher's signed manifest: authentic", fg="green")
    if failed:
        sys.exit(1)


def _signature_lines(what: str, report) -> bool:
    """A signature check in words; True when it proves the file as the pinned publisher signed it.
    The signer's certificate fingerprint is printed beside the pinned one, so a reader can compare
    them with what the site and the cards print."""
    from speechgen.signing import fingerprint_for_print

    if not report.signed:
        click.secho(f"{what}: tidak ditandatangani / not signed", fg="red", err=True)
        return False
    if report.sample:           # its name and organisation say SAMPLE too: said once, here
        who = report.signer.replace(" (SAMPLE)", "").replace("SAMPLE", "").strip() or report.signer
    else:
        who = report.signer + (f" ({report.organization})" if report.organization else "")
    when = f" on {report.signed_at:%Y-%m-%d %H:%M} UTC" if report.signed_at else ""
    sample = " [SAMPLE: sertifikat contoh, bukan penerbit sungguhan / not a real publisher]" if report.sample else ""
    line = f"{what}: ditandatangani oleh / signed by {who}{when}{sample}"
    fingerprints = [f"  sidik penanda tangan / signer's certificate: {fingerprint_for_print(report.fingerprint)}"]
    fingerprints += [f"  sidik yang disematkan / pinned:              {fingerprint_for_print(p)}"
                     for p in report.pinned]
    if report.ok:
        proof = ("waktu dibuktikan cap waktu / time proven by a timestamp "
                 f"{report.judged_at:%Y-%m-%d %H:%M} UTC" if report.timestamped else
                 "tanpa cap waktu, dinilai saat ini / no timestamp, judged at the present time")
        click.secho(line + "; utuh, sertifikat cocok / intact, by the pinned certificate", fg="green")
        click.echo(f"  {proof}")
        for note in report.notes:
            click.secho(f"  {note}", fg="yellow")
        for text in fingerprints:
            click.echo(text)
        return True
    click.secho(line, fg="red", err=True)
    for text in fingerprints:
        click.echo(text, err=True)
    for problem in report.problems or ("not proven by the pinned certificate",):
        click.secho(f"  {problem}", fg="red", err=True)
    return False


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--port", "-p", default=8000, show_default=True,
              help="Porta / port on 127.0.0.1 (0: sembarang porta bebas / any free port).")
@click.option("--no-drafts", is_flag=True, help="Tanpa draf / leave drafts out of the preview.")
def serve(project: Path, port: int, no_drafts: bool) -> None:
    """Pratinjau / preview PROJECT on http://127.0.0.1:PORT/, rebuilt on every change.

    Answers at once: a page that is not built yet says so and reloads itself; pages come first,
    each as soon as it is written, then the PDFs, card sheets and search index. Builds into a
    temporary folder named for the project (never site/), removed when the preview stops; watches
    speeches, templates, static files and config, and reloads the open page. Errors show in the
    terminal and over the page, while the last good preview keeps being served. Stop with Ctrl+C.
    """
    import signal
    import threading

    from speechgen.serve import Server, quiet_workers

    announced = threading.Event()

    def log(message: str) -> None:          # the URL first, then what the builds say
        announced.wait(5)
        click.echo(message, err=True)

    server = Server(project, port, log=log, drafts=not no_drafts)
    try:
        server.open()
    except OSError as error:
        server.stop()
        click.echo(f"tidak bisa membuka porta / cannot listen on 127.0.0.1:{port}: {error.strerror}", err=True)
        sys.exit(1)
    quiet_workers(server.tmp / "tmp", forkserver=False)
    for number in (signal.SIGINT, signal.SIGTERM):      # Ctrl+C and `kill`: the same clean end
        signal.signal(number, lambda signum, frame: server.stop_soon())
    click.echo(f"Pratinjau / preview: {server.url}  (Ctrl+C untuk berhenti / to stop)")
    announced.set()
    server.run()                # answers from a process of its own; builds and watches here
    for number in (signal.SIGINT, signal.SIGTERM):      # a second Ctrl+C does not cut the cleanup short
        signal.signal(number, signal.SIG_IGN)
    server.stop(detach=True)
    click.echo("Pratinjau dihentikan / preview stopped.", err=True)


def _s3_option(context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    """--to and --endpoint checked before anything runs: a malformed one is a usage error (exit 2)."""
    from speechgen.publish import PublishError, check_endpoint, parse_target

    if value is None:
        return value
    try:
        parse_target(value) if parameter.name == "to" else check_endpoint(value)
    except PublishError as error:
        raise click.BadParameter(str(error)) from None
    return value


@main.command(context_settings=CONTEXT)
@PROJECT
@click.option("--to", "to", required=True, metavar="s3://BUCKET/PREFIX", callback=_s3_option,
              help="Tujuan / where: a bucket and the folder in it, e.g. s3://arsip/pidato.")
@click.option("--endpoint", default=None, metavar="URL", callback=_s3_option,
              help="Alamat penyimpanan S3 / an S3-compatible store's URL (default: AWS S3, or "
                   "$AWS_ENDPOINT_URL).")
@click.option("--site", "site_dir", type=_Path(file_okay=False, path_type=Path), default=None,
              help="Folder situs / a folder `speechgen build` made (default: PROJECT/site).")
@click.option("--dry-run", is_flag=True, help="Uji coba / list what would change; upload nothing.")
@click.option("--delete", is_flag=True,
              help="Hapus yang lama / remove objects under the prefix that the site no longer has, "
                   "after everything else is up.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Unggahan sekaligus / uploads at once.")
@click.option("--allow-unreleased", is_flag=True,
              help="Pratinjau / publish PDFs not yet released too (they may still change).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=600, show_default=True,
              metavar="SECONDS", help="Batas waktu / the whole exchange with the store may take this long.")
@click.option("--quiet", "-q", is_flag=True, help="Hanya galat / print errors only.")
def publish(project: Path, to: str, endpoint: str | None, site_dir: Path | None, dry_run: bool,
            delete: bool, jobs: int, allow_unreleased: bool, timeout: float, quiet: bool) -> None:
    """Terbitkan / publish the built site to an S3-compatible bucket.

    Uploads only the files whose SHA-256 differs from what the bucket holds, with their
    Content-Type and Cache-Control, in an order that never shows half a site: files and PDFs
    first, then pages, then the search entry and the manifest. Old objects are removed only with
    --delete, and only after everything is up. Credentials come from the standard AWS chain
    (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role), never from
    speechgen.toml. A run that fails leaves the published site whole; run it again to finish.

    Only a folder `speechgen build` made is sent, exactly as its build recorded it (anything else
    in it is refused), and only released PDFs (--allow-unreleased for a preview), signed when the
    project signs; refused before anything connects. Each request waits at most 30 s, the whole
    run --timeout seconds.
    """
    from speechgen.publish import project_signs, publish as run_publish

    from speechgen.config import CONFIG_NAME, project_above

    if site_dir is None and not (project / CONFIG_NAME).exists():
        project = project_above(project.absolute()) or project       # run from a folder inside the project
    site = site_dir if site_dir is not None else project / "site"
    progress = _UploadProgress(enabled=not quiet and not dry_run)

    def comparing(count: int) -> None:           # said once the folder is known good, not before
        if not quiet:
            click.echo(f"Membandingkan / comparing {count:,} berkas/files of {site} with {to} ...", err=True)

    try:
        signs = project_signs(project) if site_dir is None else False
        report = run_publish(site, to, endpoint=endpoint, delete=delete, dry_run=dry_run, jobs=jobs,
                             progress=progress, notice=lambda m: click.echo(m, err=True),
                             allow_unreleased=allow_unreleased, signing=signs, timeout=timeout,
                             comparing=comparing)
    except SpeechgenError as error:
        progress.close()
        _fail(error, published=False)
        return
    finally:
        progress.close()
    if dry_run:
        new = set(report.new)
        for dest in report.uploaded:
            click.echo(f"  {'+' if dest in new else '~'} {dest}")
    if dry_run or not quiet:        # paths in the site, as the + and ~ lines
        for key in report.deleted:
            click.echo(f"  - {key[len(report.prefix):]}")
    if dry_run:
        click.echo(f"Uji coba / dry run: {len(report.uploaded):,} akan diunggah/would upload "
                   f"({_size(report.bytes)}), {report.unchanged:,} tetap/unchanged, "
                   f"{len(report.deleted):,} akan dihapus/would delete; nothing was changed "
                   f"-> {report.target}")
    elif not quiet:
        click.echo(f"Selesai / done: {len(report.uploaded):,} diunggah/uploaded ({_size(report.bytes)}), "
                   f"{report.unchanged:,} tetap/unchanged, {len(report.deleted):,} dihapus/deleted "
                   f"in {report.seconds:.1f} s -> {report.target}")
    kept = len(report.stale) if not delete else 0
    if kept and not quiet:
        click.echo(f"{kept:,} objek lama tetap ada / old objects kept under the prefix "
                   "(--delete removes them)", err=True)


@main.group(context_settings=CONTEXT)
def keys() -> None:
    """Kunci tanda tangan / signing keys: a sample certificate and key for trying signing."""


@keys.command("new", context_settings=CONTEXT)
@click.option("--out", "-o", "out", required=True, type=_Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder untuk kunci / folder for the two files; outside every speechgen project.")
@click.option("--name", default="Penerbit Contoh", show_default=True,
              help="Nama penerbit / the publisher's name in the certificate (marked SAMPLE).")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Masa berlaku / days the certificate is valid.")
def keys_new(out: Path, name: str, days: int) -> None:
    """Kunci contoh / make a SAMPLE certificate and private key, for trying signed publications.

    Writes DIR/publisher.pem, the certificate: public; copy it into the project and name it in
    speechgen.toml ([signing] certificate = "publisher.pem"). And DIR/publisher-key.p12, the
    private key, protected by a passphrase: keep it outside the project and give its path in
    SPEECHGEN_SIGNING_KEY. The passphrase is read from SPEECHGEN_SIGNING_PASSPHRASE, or asked
    for (hidden, twice). DIR must not be inside a speechgen project, and the files must not exist.

    The certificate is self-signed and says SAMPLE in its name: it proves nothing about a real
    publisher, and PDF readers show it as untrusted. A real deployment uses the PKCS#12 its
    certification authority issued; speechgen never sends a key anywhere.
    """
    from speechgen.signing import (KEY_ENV, PASSPHRASE_ENV, check_key_folder, fingerprint_for_print,
                                   certificate_fingerprint, new_sample_keys)

    try:
        check_key_folder(out)
        passphrase = os.environ.get(PASSPHRASE_ENV, "")
        if not passphrase:
            if not sys.stdin.isatty():
                raise SpeechgenError(f"no passphrase: set {PASSPHRASE_ENV}, or run `speechgen keys new` "
                                     "in a terminal to type one")
            passphrase = click.prompt("Frasa sandi / passphrase for the key", hide_input=True,
                                      confirmation_prompt=True)
        cert_path, key_path = new_sample_keys(out, name, passphrase, days)
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    click.echo("Contoh / SAMPLE: a self-signed certificate for trying signing, not a real publisher's.")
    click.echo(f"  {cert_path}  sertifikat / certificate (public): copy it into the project")
    click.echo(f"  {key_path}  kunci privat / private key: keep it here, outside the project")
    click.echo(f"Sidik / fingerprint (SHA-256): {fingerprint_for_print(certificate_fingerprint(cert_path.read_bytes()))}")
    click.echo(f"Lalu / next: set {KEY_ENV}={key_path} and {PASSPHRASE_ENV} when you build.")


@keys.command("rollover", context_settings=CONTEXT)
@PROJECT
@click.option("--new-certificate", "new_certificate", required=True,
              type=_Path(dir_okay=False, exists=True, path_type=Path), metavar="NEW.pem",
              help="Sertifikat baru / the renewed publisher certificate (PEM).")
def keys_rollover(project: Path, new_certificate: Path) -> None:
    """Ganti sertifikat / renew the publisher's certificate, vouched for by the old one.

    The key of the certificate in use (SPEECHGEN_SIGNING_KEY and SPEECHGEN_SIGNING_PASSPHRASE)
    signs a statement naming NEW.pem, kept in certificates/ (commit it); the project's
    [signing] certificate is replaced by NEW.pem. Every later build carries the statements in
    the manifest's signature, so `speechgen verify --fingerprint OLD` follows them to the new
    certificate. Then build with the new key. Do it before the old certificate expires.
    """
    from datetime import datetime, timezone

    from speechgen.config import load_config
    from speechgen.signing import fingerprint_for_print, rollover
    from speechgen.writer import lock_project

    try:
        config = load_config(project)
        if not config.signing.certificate:
            raise SpeechgenError(f"{config.path}: [signing] certificate is not set; there is no certificate to renew")
        lock = lock_project(config.root, exclusive=True, wait=lambda: click.echo(
            "menunggu / waiting: another release or build holds the project", err=True))
        try:
            statement, new = rollover(config.root, Path(config.signing.certificate), new_certificate, os.environ,
                                      config.signing.timestamp_url, datetime.now(timezone.utc))
        finally:
            os.close(lock)
    except SpeechgenError as error:
        _fail(error, published=False)
        return
    click.echo(f"Pernyataan / statement: {statement}")
    click.echo(f"Sertifikat baru / new certificate: {fingerprint_for_print(new)}")
    click.echo("Lalu / next: commit certificates/ and the certificate; build with the NEW key "
               "(SPEECHGEN_SIGNING_KEY).")


def _size(count: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:,} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


class _UploadProgress:
    """Files and bytes uploaded: a bar on a terminal, a plain line per file otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.bytes = 0

    def __call__(self, done: int, total: int, done_bytes: int, total_bytes: int, dest: str | None) -> None:
        if not self.enabled or total == 0:
            return
        if dest is None:
            if sys.stderr.isatty():
                self.bar = click.progressbar(length=max(total_bytes, 1), label="Unggah / upload",
                                             file=sys.stderr,
                                             item_show_func=lambda text: text)
                self.bar.__enter__()
            return
        if self.bar is not None:
            self.bar.update(done_bytes - self.bytes, f"{done:,}/{total:,} berkas/files, {_size(done_bytes)}")
            if done == total:
                self.close()
        else:
            click.echo(f"{done}/{total} {dest} ({_size(done_bytes)} of {_size(total_bytes)})", err=True)
        self.bytes = done_bytes

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
