"""Break one dependency of the engine at a time and show that the property test catches it.

    python tests/mutations.py                 # every mutation, against this checkout
    python tests/mutations.py --only site-reads order
    MUTATIONS_LOG=/tmp/mutations.txt python tests/mutations.py     # each failing test's whole report kept
    python tests/mutations.py --tries 3       # a surviving mutation is tried again, twice at most

Each mutation copies the project's code and tests into a scratch folder, changes one line there (every place it is written)
(never in this checkout), and runs tests/test_incremental_property.py against the copy: first the
fast test (pages, feeds, QR codes, previews), then, while each passes, two fixed sequences (the
recipients reordered; emblem, font and a body's picture replaced) and the one with books, card
sheets and search. A mutation is *caught* when a test fails. An unchanged copy must pass (the baseline),
or the run means nothing. The list is in docs/architecture.md ("Tested against mutations").
The property tests draw their projects and edits at random (the one with books draws 5 examples),
so a mutation whose edit was not drawn survives one run by chance (seen on an unchanged engine too):
`--tries N` runs a surviving mutation's tests again, up to N times in all.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    old: str
    new: str
    what: str


MUTATIONS = [
    Mutation("site-reads", "speechgen/deps.py",
             'tokens.add(f"site.{attribute}")', "pass",
             "a template's read of a site-wide field (site.speeches, site.recipients) is not recorded"),
    Mutation("order", "speechgen/deps.py",
             '"[" + ",".join(shallow(v) for v in value) + "]"', '"[" + ",".join(sorted(shallow(v) for v in value)) + "]"',
             "a list digests the same in any order"),
    Mutation("parsed-config", "speechgen/memo.py",
             'entry = key("parsed", settings, place, sha)', 'entry = key("parsed", place, sha)',
             "a source's remembered reading is keyed without the config"),
    Mutation("parsed-field", "speechgen/memo.py",
             'occasion=r["occasion"], place=r["place"]', 'occasion=r["occasion"], place=""',
             "a remembered reading loses a field (the place)"),
    Mutation("font-path", "speechgen/memo.py",
             "return tuple(deps.digest(path.read_bytes()) for path in paths)",
             "return tuple(str(path) for path in paths)",
             "the project's fonts are known by their paths, not their bytes"),
    Mutation("book-files", "speechgen/stages.py",
             "files={portable(p, site.config.root): sha for p, sha in read})", "files={})",
             "a book forgets the files WeasyPrint read (a picture in its body, stylesheets)"),
    Mutation("card-emblem", "speechgen/graph.py",
             "materials.logo, materials.picture,", "materials.logo,",
             "a card sheet's part is kept without the emblem it prints"),
    Mutation("card-fonts", "speechgen/render/cards.py",
             "return _card_fonts(project, font_files.versions(project))", "return _card_fonts(project, ())",
             "a card's fonts are measured once per path in a process, whatever their bytes"),
    Mutation("qr-recipe", "speechgen/stages.py",
             'output_key(site.output(site.qr_dest(copy, "png")), maker.recipe)',
             'output_key(dataclasses.replace(site.output(site.qr_dest(copy, "png")), made_of=(url,)))',
             "a QR code is kept by its URL alone, not its recipe (size, logo)"),
    Mutation("preview-fonts", "speechgen/graph.py",
             "materials.picture, *materials.fonts))", "materials.picture))",
             "a link preview is kept without the fonts it is drawn with"),
    Mutation("index-reads", "speechgen/memo.py",
             "same = self._unchanged[number] = self.resolver.token_digest(name) == digest",
             "same = self._unchanged[number] = True",
             "the last build's index takes an output as unchanged whatever it read"),
]


def scratch_copy(into: Path) -> Path:
    """The code, theme and tests of this checkout (what git tracks and what is new), no output."""
    copy = into / "project"
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", ".hypothesis", "artifacts", "*.egg-info")
    for part in ("speechgen", "tests"):
        shutil.copytree(ROOT / part, copy / part, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def run(copy: Path, test: str) -> tuple[bool, str]:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--hypothesis-profile=found",
                           f"tests/test_incremental_property.py::{test}"],
                          cwd=copy, env=env, capture_output=True, text=True)
    if done.returncode != 0 and os.environ.get("MUTATIONS_LOG"):       # the whole report, to read later
        with open(os.environ["MUTATIONS_LOG"], "a", encoding="utf-8") as log:
            log.write(f"==== {copy} {test}\n{done.stdout}\n")
    last = [line for line in done.stdout.splitlines() if "Error" in line or "passed" in line or "failed" in line]
    return done.returncode == 0, (last[0] if last else done.stdout[-300:]).strip()


TESTS = ("test_every_edit_gives_the_clean_build",
         "test_the_recipients_listed_in_another_order_are_listed_so",
         "test_cards_books_and_previews_follow_the_emblem_and_font_they_print",
         "test_with_books_cards_and_search_every_edit_gives_the_clean_build")


def trial(mutation: Mutation | None, tries: int = 1) -> str:
    said = ""
    for attempt in range(1, tries + 1):
        said = _trial(mutation)
        if mutation is None or said.startswith(("caught", "NOT APPLIED")):
            return said + (f" (try {attempt})" if attempt > 1 else "")
    return said + (f" ({tries} tries)" if tries > 1 else "")


def _trial(mutation: Mutation | None) -> str:
    with tempfile.TemporaryDirectory(prefix="speechgen-mutation-") as scratch:
        copy = scratch_copy(Path(scratch))
        if mutation is not None:
            target = copy / mutation.file
            text = target.read_text("utf-8")
            if mutation.old not in text:
                return f"NOT APPLIED: {mutation.old!r} is not in {mutation.file}"
            target.write_text(text.replace(mutation.old, mutation.new), "utf-8")
        for test in TESTS:
            started = time.monotonic()
            passed, said = run(copy, test)
            if not passed:
                return f"caught by {test} in {time.monotonic() - started:.0f} s: {said}"
        return "all passed" if mutation is None else "SURVIVED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="these mutations only (by name)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unchanged copy's run")
    parser.add_argument("--tries", type=int, default=1, help="runs of a surviving mutation's tests, at most")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    ok = True
    if not args.no_baseline:
        said = trial(None)
        print(f"baseline (no mutation): {said}", flush=True)
        ok = said == "all passed"
    for mutation in chosen:
        said = trial(mutation, args.tries)
        print(f"{mutation.name} ({mutation.what}): {said}", flush=True)
        ok = ok and said.startswith("caught")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
