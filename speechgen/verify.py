"""`speechgen verify FILE.pdf --site DIR-or-URL`: is a downloaded PDF the one that was published?

The PDF's SHA-256 is compared with every PDF the site's manifest.json lists. The site is either a
built output folder or the public URL of the site (or of its manifest.json).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from speechgen.errors import SpeechgenError
from speechgen.graph import MANIFEST
from speechgen.model import fingerprint
TIMEOUT = 20.0                          # seconds for the manifest download
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


class VerifyError(SpeechgenError):
    """The PDF or the manifest could not be read."""


@dataclass(frozen=True)
class Match:
    speech: str                         # speech id, e.g. "2025/pidato-kenegaraan"
    lang: str
    title: str
    date: str
    url: str                            # the public URL of the PDF


@dataclass(frozen=True)
class Verdict:
    sha256: str
    manifest: str                       # where the manifest was read from
    match: Match | None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sha256)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise VerifyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()


def load_manifest(site: str) -> tuple[dict, str]:
    """The manifest of a built folder, or of a site URL (http or https); and where it came from."""
    parts = urlsplit(site)
    if parts.scheme in ("http", "https"):
        # A manifest read over plain http could be swapped on the way: only https proves anything
        # (http is allowed for a preview on this machine).
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise VerifyError(f"{site}: use the site's https:// address; over plain http the "
                              "manifest could be altered on the way (gunakan https)")
        url = site if site.endswith(".json") else urljoin(site if site.endswith("/") else site + "/", MANIFEST)
        return _parse(_download(url), url), url
    path = Path(site)
    if path.is_dir():
        path = path / MANIFEST
    try:
        data = path.read_bytes()
    except OSError:
        raise VerifyError(f"{path}: no manifest here; give --site the built site folder or the "
                          "site's URL (manifest tidak ditemukan)") from None
    return _parse(data, str(path)), str(path)


def _download(url: str) -> bytes:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "speechgen-verify"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data = response.read(MAX_MANIFEST_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise VerifyError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise VerifyError(f"{url}: cannot download the manifest: {reason}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise VerifyError(f"{url}: the manifest is larger than {MAX_MANIFEST_BYTES:,} bytes")
    return data


def _parse(data: bytes, where: str) -> dict:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerifyError(f"{where}: not a speechgen manifest (not JSON)") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("speeches"), list):
        raise VerifyError(f"{where}: not a speechgen manifest (no speeches list)")
    return manifest


def find(manifest: dict, sha256: str) -> Match | None:
    for speech in manifest["speeches"]:
        languages = speech.get("languages") if isinstance(speech, dict) else None
        for lang, entry in (languages or {}).items():
            pdf = entry.get("pdf") if isinstance(entry, dict) else None
            if isinstance(pdf, dict) and str(pdf.get("sha256", "")).lower() == sha256:
                return Match(str(speech.get("id", "")), lang, str(entry.get("title", "")),
                             str(speech.get("date", "")), str(pdf.get("url", "")))
    return None


def verify(pdf: Path, site: str) -> Verdict:
    sha256 = sha256_file(pdf)
    manifest, where = load_manifest(site)
    return Verdict(sha256, where, find(manifest, sha256))
