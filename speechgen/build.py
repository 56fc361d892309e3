"""`build(config) -> Report`: read -> graph -> render -> write. `check` is the same without writing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speechgen import graph, reader, templates
from speechgen.config import Config
from speechgen.model import Artifact
from speechgen.render import html, manifest
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
          log: Log = lambda message: None) -> Report:
    started = time.perf_counter()
    out = (out or config.root / "site").absolute()
    if write:
        check_output_dir(out, config.root)     # fail before any work, not after it
    sources = reader.read_project(config, drafts=drafts)
    site = graph.make_site(config, sources)
    log(f"read {len(site.speeches)} speeches, {len(site.pages)} pages to render")
    env = templates.make_environment(config.templates_dir)
    templates.check_templates(env, html.PAGE_TEMPLATES, config.root)

    artifacts = list(html.render_site(site, env))
    artifacts.append(manifest.render_manifest(site))
    log(f"rendered {len(artifacts)} files")

    if write:
        written = write_site(artifacts, out, config.root)
        log(f"wrote {written.files} files ({written.bytes:,} bytes) to {out}")
    return Report(
        speeches=len(site.speeches), pages=len(site.pages), files=len(artifacts),
        bytes=sum(len(a.data) for a in artifacts), seconds=time.perf_counter() - started,
        out=out if write else None, artifacts=tuple(artifacts),
    )
