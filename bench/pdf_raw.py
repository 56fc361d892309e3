"""PDF per page: speechgen's books against "raw" WeasyPrint on the same Markdown (issue #11).

    python bench/pdf_raw.py --speechgen /tmp/sgbench [--speeches 4] [--words 3000] [--rounds 3]
    python bench/pdf_raw.py --speechgen /tmp/sgbench --profile     # where a book's time goes

"Raw" is what any script would do: markdown-it (commonmark, tables, footnotes) -> one HTML document
per speech (a title, the body in `<main class="body">`), one stylesheet (speechgen's own print.css,
so both lay out the body with the same fonts, measure, justification and hyphenation; no cover,
contents or colophon, footnotes as endnotes), `HTML(...).write_pdf(pdf_variant="pdf/a-3b")`, all in
one process. Its time is that process's wall time, `import weasyprint` included, divided by the
pages it wrote.

speechgen builds the same project (one language per speech, QR off, no recipients) cold (a fresh
SPEECHGEN_CACHE_DIR, no site/) three ways: `--no-pdf`, `-j 1` and `-j 2`. Its PDF time is a build's
wall time minus the `--no-pdf` build's of the same round, divided by the pages of its books
(manifest.json; a book adds a cover, a table of contents and a colophon to the body's pages).
Rounds alternate the order. Targets: `-j 1` at most 1.15x raw per page; `-j 2` at most 0.6x of `-j 1`.

--profile renders each book in this process the way a PDF worker does (`render/pdf.py`'s
`render_job` on the `Job` the build makes), under cProfile, and the raw documents the same way, and
prints both profiles' top entries; then it times variants of one book to split the difference
(speechgen's HTML without tags and attachments; the raw HTML with speechgen's fonts). Profiles are
saved as PROFILE_DIR/pdf-speechgen.prof and pdf-raw.prof (`python -m pstats`).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from archive import versions  # noqa: E402
from under_test import code_env  # noqa: E402

RAW_CHILD = r"""
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
import weasyprint
imported = time.perf_counter()
src, out, css_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
md = MarkdownIt("commonmark", {"html": False}).enable("table").use(footnote_plugin)
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()        # without one, the stylesheet's @font-face rules are ignored
css = weasyprint.CSS(filename=str(css_path), font_config=fonts)
pages, books = 0, []
for path in sorted(src.rglob("*.md")):
    text = path.read_text(encoding="utf-8")
    head, body = text.split("\n---\n", 1)
    title = next(l.split(": ", 1)[1] for l in head.splitlines() if l.startswith("title: "))
    lang = path.name.split(".")[-2]
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><h1>{title}</h1><main class="body">{md.render(body)}</main></body></html>')
    t = time.perf_counter()
    document = weasyprint.HTML(string=html, base_url=str(path.parent)).render(stylesheets=[css], font_config=fonts)
    laid = time.perf_counter()
    data = document.write_pdf(pdf_variant="pdf/a-3b")
    (out / (path.stem + ".pdf")).write_bytes(data)
    books.append({"pages": len(document.pages), "layout": laid - t, "write": time.perf_counter() - laid})
    pages += len(document.pages)
print(json.dumps({"import": imported - started, "pages": pages, "books": books,
                  "total": time.perf_counter() - started}))
"""


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_project(root: Path, speeches: int, words: int) -> None:
    """`speeches` speeches of about `words` words, one language each (Indonesian), PDFs on."""
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text(
        '[site]\ntitle = "Bench"\nbase_url = "https://pidato.example.go.id/arsip/"\n'
        'default_language = "id"\nlanguages = ["id", "en"]\npublisher = "Sekretariat Negara (bench)"\n'
        '[pdf]\nenabled = true\nvariant = "pdf/a-3b"\n[qr]\nenabled = false\n')
    for v in versions(speeches, years=speeches, words=words):
        if v.lang != "id":
            continue
        path = root / v.path
        path.parent.mkdir(exist_ok=True)
        path.write_text(v.source(), encoding="utf-8")


class Runner:
    def __init__(self, project: Path, tmp: Path, code: Path | None):
        self.project, self.tmp = project, tmp
        self.env = code_env(code)
        self.theme = Path(subprocess.run(
            [sys.executable, "-c", "import speechgen.templates as t; print(t.THEME_DIR)"], env=self.env,
            cwd=tmp, capture_output=True, text=True, check=True).stdout.strip())

    def speechgen(self, extra: list[str]) -> tuple[float, int]:
        cache = self.tmp / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(self.project / "site", ignore_errors=True)
        cache.mkdir()
        seconds, self.cpu = run([sys.executable, "-m", "speechgen", "build", str(self.project), "-q", *extra],
                                {**self.env, "SPEECHGEN_CACHE_DIR": str(cache)}, self.tmp)
        pages = 0
        manifest = self.project / "site" / "manifest.json"
        if "--no-pdf" not in extra:
            for speech in json.loads(manifest.read_text())["speeches"]:
                pages += sum(entry["pdf"]["pages"] for entry in speech["languages"].values())
        return seconds, pages

    def raw(self) -> tuple[float, dict]:
        out = self.tmp / "raw-out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        report = self.tmp / "raw.json"
        seconds, self.cpu = run([sys.executable, "-c", RAW_CHILD, str(self.project / "speeches"), str(out),
                                 str(self.theme / "print.css")], self.env, self.tmp, stdout=report)
        return seconds, json.loads(report.read_text().strip().splitlines()[-1])


def run(command: list[str], env: dict, cwd: Path, stdout: Path | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process and its children) of one command."""
    started = time.perf_counter()
    with open(stdout or os.devnull, "wb") as out:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{command[:4]} failed")
    return seconds, usage.ru_utime + usage.ru_stime


def timings(args: argparse.Namespace, runner: Runner) -> None:
    rows: dict[str, list[float]] = {"raw": [], "j1": [], "j2": [], "nopdf": []}
    cpu: dict[str, list[float]] = {"raw": [], "j1": [], "j2": [], "nopdf": []}
    pages: dict[str, int] = {}
    ratios_raw, ratios_j2 = [], []
    print("| round | case | seconds | CPU seconds | PDF pages | load avg before |\n|---:|---|---:|---:|---:|---|",
          flush=True)
    for r in range(1, args.rounds + 1):
        order = ["raw", "j1", "nopdf", "j2"] if r % 2 else ["j2", "nopdf", "j1", "raw"]
        got: dict[str, float] = {}
        for case in order:
            load = loadavg()
            if case == "raw":
                seconds, info = runner.raw()
                pages["raw"] = info["pages"]
                detail = (f" (import {info['import']:.2f} s, layout "
                          f"{sum(b['layout'] for b in info['books']):.2f} s, write "
                          f"{sum(b['write'] for b in info['books']):.2f} s)")
            else:
                extra = {"j1": ["-j", "1"], "j2": ["-j", "2"], "nopdf": ["--no-pdf"]}[case]
                seconds, n = runner.speechgen(extra)
                if n:
                    pages[case] = n
                detail = ""
            got[case] = seconds
            rows[case].append(seconds)
            cpu[case].append(runner.cpu)
            label = {"raw": "raw WeasyPrint, one process", "j1": "speechgen build -j 1",
                     "j2": "speechgen build -j 2", "nopdf": "speechgen build --no-pdf"}[case]
            print(f"| {r} | {label}{detail} | {seconds:.2f} | {runner.cpu:.2f} | {pages.get(case, '')} | {load} |",
                  flush=True)
        j1_pdf, j2_pdf = got["j1"] - got["nopdf"], got["j2"] - got["nopdf"]
        ratios_raw.append((j1_pdf / pages["j1"]) / (got["raw"] / pages["raw"]))
        ratios_j2.append(j2_pdf / j1_pdf)
    med = {k: statistics.median(v) for k, v in rows.items()}
    c = {k: statistics.median(v) for k, v in cpu.items()}
    raw_pp = med["raw"] / pages["raw"]
    j1_pp = (med["j1"] - med["nopdf"]) / pages["j1"]
    j2_pp = (med["j2"] - med["nopdf"]) / pages["j2"]
    r1, r2 = statistics.median(ratios_raw), statistics.median(ratios_j2)
    raw_cpp, j1_cpp = c["raw"] / pages["raw"], (c["j1"] - c["nopdf"]) / pages["j1"]
    print(f"\n| case (medians of {args.rounds} rounds) | PDF seconds | pages | s per page | ratio | target | "
          "CPU s per page | CPU ratio |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    print(f"| raw WeasyPrint (markdown-it + print.css + PDF/A-3b), one process | {med['raw']:.2f} | "
          f"{pages['raw']} | {raw_pp:.3f} | 1.00x | | {raw_cpp:.3f} | 1.00x |")
    print(f"| speechgen -j 1 (build minus --no-pdf build) | {med['j1'] - med['nopdf']:.2f} | {pages['j1']} | "
          f"{j1_pp:.3f} | {r1:.2f}x raw | <= 1.15x: {'met' if r1 <= 1.15 else '**not met**'} | "
          f"{j1_cpp:.3f} | {j1_cpp / raw_cpp:.2f}x |")
    print(f"| speechgen -j 2 | {med['j2'] - med['nopdf']:.2f} | {pages['j2']} | {j2_pp:.3f} | "
          f"{r2:.2f}x of -j 1 | <= 0.6x: {'met' if r2 <= 0.6 else '**not met**'} | "
          f"{(c['j2'] - c['nopdf']) / pages['j2']:.3f} | {(c['j2'] - c['nopdf']) / (c['j1'] - c['nopdf']):.2f}x of -j 1 |")
    print(f"\n(--no-pdf build: {med['nopdf']:.2f} s median; ratios are medians of the per-round ratios; CPU "
          "seconds are user + system of the build's whole process tree, less the --no-pdf build's.) With 2 "
          f"workers the PDF work costs {(c['j2'] - c['nopdf']) / (c['j1'] - c['nopdf']):.2f}x the CPU of one "
          "(each worker imports WeasyPrint and loads the fonts); split evenly over 2 idle cores, its wall "
          f"time would be about {(c['j2'] - c['nopdf']) / 2 / (med['j1'] - med['nopdf']):.2f}x of -j 1's.")


# --- --profile: in this process ---------------------------------------------------------------------

def speechgen_jobs(project: Path):
    """The Jobs a `-j 1` build would send to its PDF worker, made the way build.py makes them."""
    from speechgen import graph, preflight, reader
    from speechgen.config import load_config
    from speechgen.errors import Problems, SourceError
    from speechgen.graph import Options
    from speechgen.render import pdf

    config = load_config(project)
    problems = Problems(config.root)
    templates, media = preflight.check_project(config, problems, pdf=True, cards=False)
    sources = reader.read_project(config, problems=problems)
    problems.raise_if_any(SourceError)
    site = graph.make_site(config, sources, Options(pdf=True, cards=False, search=False))
    jobs = []
    for speech in site.speeches:
        for lang, version in speech.versions.items():
            context = pdf.book_context(site, speech, version, media.emblem)
            jobs.append(pdf.make_job(site, templates.env, speech, version, context, templates.print_css))
    return jobs


def raw_documents(project: Path) -> list[str]:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(footnote_plugin)
    docs = []
    for path in sorted((project / "speeches").rglob("*.md")):
        head, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
        title = next(line.split(": ", 1)[1] for line in head.splitlines() if line.startswith("title: "))
        docs.append(f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{title}</title>'
                    f'</head><body><h1>{title}</h1><main class="body">{md.render(body)}</main></body></html>')
    return docs


def top(profile: cProfile.Profile, path: Path, n: int) -> str:
    profile.dump_stats(str(path))
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(n)
    text = out.getvalue()
    return text[text.index("   ncalls"):] if "   ncalls" in text else text


def profile(args: argparse.Namespace, project: Path) -> None:
    import weasyprint

    from speechgen.render import pdf

    from weasyprint.text.fonts import FontConfiguration

    theme_css = pdf.STYLESHEET
    jobs = speechgen_jobs(project)
    raw = raw_documents(project)
    fonts = FontConfiguration()
    css = weasyprint.CSS(filename=str(theme_css), font_config=fonts)
    # warm up both paths once (fonts, hyphenation dictionaries), so the profiles compare steady work
    pdf.render_job(jobs[0])
    weasyprint.HTML(string=raw[0], base_url=str(theme_css.parent)).write_pdf(pdf_variant="pdf/a-3b",
                                                                              stylesheets=[css], font_config=fonts)
    folder = args.profile_dir
    folder.mkdir(parents=True, exist_ok=True)

    ours = cProfile.Profile()
    started, pages_ours = time.perf_counter(), 0
    ours.enable()
    for job in jobs:
        pages_ours += pdf.render_job(job)[1]
    ours.disable()
    t_ours = time.perf_counter() - started

    theirs = cProfile.Profile()
    started, pages_raw = time.perf_counter(), 0
    theirs.enable()
    for text in raw:
        document = weasyprint.HTML(string=text, base_url=str(theme_css.parent)).render(stylesheets=[css],
                                                                                       font_config=fonts)
        document.write_pdf(pdf_variant="pdf/a-3b")
        pages_raw += len(document.pages)
    theirs.disable()
    t_raw = time.perf_counter() - started
    print(f"\nIn one process, WeasyPrint imported and warm, under cProfile: speechgen render_job "
          f"{t_ours:.2f} s for {pages_ours} pages ({t_ours / pages_ours:.3f} s/page); raw {t_raw:.2f} s "
          f"for {pages_raw} pages ({t_raw / pages_raw:.3f} s/page); {t_ours / pages_ours / (t_raw / pages_raw):.2f}x")
    print("\n### speechgen render_job, top by own time\n\n```\n" + top(ours, folder / "pdf-speechgen.prof", 25)
          + "```")
    print("\n### raw, top by own time\n\n```\n" + top(theirs, folder / "pdf-raw.prof", 25) + "```")
    variants(jobs, raw, css, fonts, theme_css)


def variants(jobs, raw: list[str], css, fonts, theme_css: Path) -> None:
    """One thing changed at a time, no profiler: seconds per page of each variant over all books."""
    import functools

    import weasyprint

    from speechgen.render import pdf

    def timed(render, repeat: int = 3) -> tuple[float, int, float, float]:
        """The fastest of `repeat` passes over every book (the machine is shared: the minimum is
        the least disturbed)."""
        best = None
        for _ in range(repeat):
            pages, layout, write = 0, 0.0, 0.0
            for item in (jobs if render.__name__.startswith("sg") else raw):
                n, lay, wr = render(item)
                pages, layout, write = pages + n, layout + lay, write + wr
            if best is None or layout + write < best[2] + best[3]:
                best = ((layout + write) / pages, pages, layout, write)
        return best

    def sg_full(job):
        """layout and write together, with the per-book setup (fetcher, fonts, stylesheets parsed)"""
        started = time.perf_counter()
        data, pages, _ = pdf.render_job(job)
        return pages, time.perf_counter() - started, 0.0

    def split(job, **write_args):
        """speechgen's HTML, stylesheets, fetcher and fonts; layout and write timed apart (the
        per-book setup of fetcher, fonts and parsed stylesheets left out of the time)."""
        fetcher = pdf.project_fetcher(job.allowed, job.mounts)
        fonts = pdf._bundled_fonts_only()()
        sheets = [weasyprint.CSS(string=text, base_url=base, url_fetcher=fetcher, font_config=fonts)
                  for text, base in job.stylesheets]
        started = time.perf_counter()
        document = weasyprint.HTML(string=job.html, base_url=job.base_url, url_fetcher=fetcher).render(
            stylesheets=sheets, font_config=fonts)
        laid = time.perf_counter()
        document.write_pdf(**write_args)
        return len(document.pages), laid - started, time.perf_counter() - laid

    def sg_same_write(job):
        """the write as render_job does it: tags, the Markdown source attached, the finisher"""
        from weasyprint import Attachment
        day = __import__("datetime").datetime(2025, 1, 1)
        source = Attachment(string=job.attachment, name=job.attachment_name, created=day, modified=day,
                            relationship="Source")
        return split(job, pdf_variant=job.variant, pdf_identifier=job.identifier.encode(), pdf_tags=True,
                     attachments=[source], finisher=functools.partial(pdf.finish_pdf, archival=True))

    def sg_no_tags(job):
        return split(job, pdf_variant=job.variant)

    def sg_no_variant(job):
        return split(job)

    def raw_plain(text):
        started = time.perf_counter()
        document = weasyprint.HTML(string=text, base_url=str(theme_css.parent)).render(stylesheets=[css],
                                                                                       font_config=fonts)
        laid = time.perf_counter()
        document.write_pdf(pdf_variant="pdf/a-3b")
        return len(document.pages), laid - started, time.perf_counter() - laid

    def raw_tagged(text):
        started = time.perf_counter()
        document = weasyprint.HTML(string=text, base_url=str(theme_css.parent)).render(stylesheets=[css],
                                                                                       font_config=fonts)
        laid = time.perf_counter()
        document.write_pdf(pdf_variant="pdf/a-3b", pdf_tags=True)
        return len(document.pages), laid - started, time.perf_counter() - laid

    print("\n| variant (all books, in this process, no profiler; fastest of 3 passes) | s per page | pages | "
          "layout s | write s |")
    print("|---|---:|---:|---:|---:|")
    for render, label in ((sg_full, "speechgen render_job (as a worker does it; layout and write together, "
                                    "per-book setup included)"),
                          (sg_same_write, "speechgen's HTML + fonts, write as render_job (tags, attachment, "
                                          "finisher)"),
                          (sg_no_tags, "speechgen's HTML + fonts, write_pdf(pdf/a-3b) without tags"),
                          (sg_no_variant, "speechgen's HTML + fonts, plain write_pdf()"),
                          (raw_plain, "raw HTML + print.css, write_pdf(pdf/a-3b)"),
                          (raw_tagged, "raw HTML + print.css, write_pdf(pdf/a-3b, pdf_tags=True)")):
        per, pages, layout, write = timed(render)
        print(f"| {label} | {per:.3f} | {pages} | {layout:.2f} | {write:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speeches", type=int, default=4)
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile one render of each book in this process")
    parser.add_argument("--profile-dir", type=Path, default=Path(tempfile.gettempdir()) / "speechgen-pdf-profile")
    parser.add_argument("--speechgen", type=Path, metavar="DIR", help="run the speechgen package in DIR")
    args = parser.parse_args()
    code = args.speechgen.resolve() if args.speechgen else None
    tmp = Path(tempfile.mkdtemp(prefix="speechgen-pdfraw-"))
    try:
        project = tmp / "p"
        make_project(project, args.speeches, args.words)
        print(f"{os.cpu_count()} cores; {args.speeches} speeches of ~{args.words} words; load {loadavg()}",
              flush=True)
        if args.profile:
            if code is not None:
                sys.path.insert(0, str(code))
            profile(args, project)
        else:
            timings(args, Runner(project, tmp, code))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
