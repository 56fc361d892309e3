"""`manifest.json`: the public, documented list of what a build published (see docs/builds.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from speechgen import __version__
from speechgen.graph import Site
from speechgen.model import PdfInfo


def render_manifest(site: Site, pdfs: Mapping[tuple[str, str], PdfInfo],
                    certificates: Sequence[Mapping[str, str]] = ()) -> bytes:
    """The manifest. `certificates` lists the publisher's certificates over time, oldest first
    (`signing.certificate_history`: each renewed one with the day it was renewed and the
    certificate that vouched for it); listed only when a certificate was ever renewed."""
    with_copies, with_cards = site.config.qr.enabled, site.options.cards
    speeches = []
    for speech in site.speeches:
        languages = {}
        for lang, version in speech.versions.items():
            dest = site.speech_dest(speech, lang)
            entry: dict = {"title": version.title, "path": dest, "url": site.url(dest)}
            pdf = pdfs.get((speech.id, lang))
            every = site.every_edition(speech, lang, pdf)
            if pdf is not None:
                entry["pdf"] = {"path": pdf.dest, "url": site.url(pdf.dest), "sha256": pdf.sha256,
                                "pages": pdf.pages, "bytes": pdf.bytes}
                if every:
                    entry["pdf"] |= {"edition": every[-1].number, "released": every[-1].released}
            if any(e.released for e in every):     # kept and served for good, with or without a new PDF
                entry["editions"] = [
                    {"edition": e.number, "date": e.date.isoformat(), "note": e.note(lang),
                     "sha256": e.sha256, "path": e.dest, "url": site.url(e.dest), "pages": e.pages,
                     "bytes": e.bytes} | ({"revisions": list(e.revisions)} if e.revisions else {})
                    for e in every if e.released]
            languages[lang] = entry
        item: dict = {"id": speech.id, "date": speech.date.isoformat(), "speaker": speech.speaker,
                      "languages": languages}
        if speech.aliases:
            item["aliases"] = list(speech.aliases)
        if speech.withdrawn is not None:
            item["withdrawn"] = {"date": speech.withdrawn.date.isoformat(),
                                 "note": speech.withdrawn.note(speech.primary.lang),
                                 "notes": {lang: speech.withdrawn.note(lang) for lang in speech.versions}}
        copies = site.copies_of(speech)
        if with_copies and copies:
            item["copies"] = [
                {"recipient": c.recipient.id, "name": c.recipient.name, "path": site.copy_dest(c),
                 "url": site.url(site.copy_dest(c)),
                 "qr": {"png": site.qr_dest(c, "png"), "svg": site.qr_dest(c, "svg")}}
                for c in copies]
            if with_cards:
                item["cards"] = site.cards_dest(speech)
        speeches.append(item)
    data: dict = {"base_url": site.config.site.base_url, "generator": f"speechgen {__version__}"}
    if site.certificate:
        data["certificate"] = {"path": site.certificate_dest, "url": site.url(site.certificate_dest),
                               "sha256": site.certificate}
        if len(certificates) > 1:
            data["certificates"] = [dict(c) for c in certificates]
    data["speeches"] = speeches
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
