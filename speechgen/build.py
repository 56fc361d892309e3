"""`build(config) -> Report`: read -> graph -> render -> write. `check` is the same without writing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speechgen import graph, reader, templates
from speechgen.config import Config
from speechgen.model import Artifact
from speechgen.render import cards, html, manifest
from speechgen.writer import check_output_dir, write_site

Log = Callable[[str], None]


@dataclass(frozen=True)
class Report:
    speeches: int
    pages: int
    files: int
    bytes: int
    seconds: float
    out: Path | None
    artifacts: tuple[Artifact, ...] = ()


def build(config: Config, *, out: Path | None = None, drafts: bool = False, write: bool = True,
          log: Log = lambda message: None, card_pdfs: bool = True, preview: bool = False,
          pdf: bool | None = None, jobs: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> Report:
    """`card_pdfs=False` skips the card sheets (slow) but still makes the QR codes; `preview=True`
    (the local preview) allows an http base_url for the QR codes. `pdf` overrides [pdf] enabled;
    `jobs` is the number of PDF worker processes (default: every core); `progress(done, total)`
    follows the PDFs being rendered."""
    started = time.perf_counter()
    out = (out or config.root / "site").absolute()
    if write:
        check_output_dir(out, config.root)     # fail before any work, not after it
    sources = reader.read_project(config, drafts=drafts)
    site = graph.make_site(config, sources)
    log(f"read {len(site.speeches)} speeches, {len(site.pages)} pages to render")
    if config.qr.enabled and site.copies:
        cards.check_base_url(site, preview)    # printed codes: refuse http before any work
    env = templates.make_environment(config.templates_dir)
    templates.check_templates(env, html.PAGE_TEMPLATES, config.root)

    # PDFs first: the speech pages show each PDF's size, pages and fingerprint.
    pdfs: dict = {}
    books: list[Artifact] = []
    if config.pdf.enabled if pdf is None else pdf:
        from speechgen.render import pdf as pdf_render     # lazy; it imports WeasyPrint only in workers

        templates.check_templates(env, pdf_render.PRINT_TEMPLATES, config.root)
        books, pdfs = pdf_render.render_pdfs(site, env, jobs=jobs, log=log, progress=progress)
    artifacts = list(html.render_site(site, env, pdfs))
    artifacts += books
    from speechgen.render import search      # lazy: starts the pagefind binary

    artifacts += search.render_search_index(site, artifacts, log)
    artifacts += cards.render_cards(site, pdfs, card_pdfs=card_pdfs, log=log)
    artifacts.append(manifest.render_manifest(site, pdfs, with_copies=config.qr.enabled,
                                              with_cards=card_pdfs))
    if pdfs:
        from speechgen.render.pdf import sha256sums

        artifacts.append(sha256sums(a for a in artifacts if a.dest.endswith(".pdf")))
    log(f"rendered {len(artifacts)} files")

    if write:
        written = write_site(artifacts, out, config.root)
        log(f"{out} already holds these {written.files} files: left as it was" if written.unchanged
            else f"wrote {written.files} files ({written.bytes:,} bytes) to {out}")
    return Report(
        speeches=len(site.speeches), pages=len(site.pages), files=len(artifacts),
        bytes=sum(len(a.data) for a in artifacts), seconds=time.perf_counter() - started,
        out=out if write else None, artifacts=tuple(artifacts),
    )
