"""The build's one memo: what an output is made of -> a cache key -> the output, reused or kept.

The only module that makes cache keys and reads or keeps memoized results. Renderers and the
reader are pure functions of their inputs. Every output of the graph says what it is made of
(`graph.Output.made_of`: the graph's values, and the files the config names by their bytes'
digests, `materials`; never a path alone); a stage hands the memo that output, with what it derives
only once other outputs exist, and gets the output back, or renders it and hands it over to keep:

- `output_key` is every rendered or drawn output's key: its kind, place and `made_of`, what its
  stage derives (a page's values with the PDFs' facts, as `html.page_context(recipe=True)` makes
  them; a book's context; a card sheet part's copies; a QR code's recipe), and for the templated
  outputs what all of them share (`globals_key`: templates, config, fonts by their bytes);
- a page, book or card sheet part records what its template read (`deps`), and is reused when every
  object it read digests as before with the same key; a book also records every file WeasyPrint
  read, with its SHA-256;
- Markdown, a source's reading, compiled templates, a card sheet part's PDF and the search index
  are keyed by their whole input (`markdown_key`, `parsed_key`, `compiled_key`, `card_pdf_key`,
  `search_key`);
- the last reading's records are kept together (`RememberedSources`), each by its own key;
- the last build into an output folder leaves an index of its pages and previews (`keep_index`):
  each one's key, place, SHA-256 and what it read, with every read's digest then. An output
  found there whose reads digest the same and whose bytes the previous output holds is linked
  without reading its own record (an edit of one speech checks 3,600 outputs); any other goes
  by its record;
- a file's SHA-256 is remembered by its stamps (`sha_memo`), outside the clock's racy window;
- an unchanged project is not read at all (`unchanged_output`, over `inputs`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from stat import S_ISREG

import jinja2
import jinja2.bccache

from speechgen import deps, markdown, reader, signing, texts
from speechgen.cache import Cache, key
from speechgen.config import Config
from speechgen.errors import Problem, Problems, SourceError
from speechgen.graph import Materials, Output, Page
from speechgen.fonts import BUNDLED as BUNDLED_FONTS, coverage as fonts_coverage
from speechgen.model import Correction, Heading, Version, Withdrawal
from speechgen.writer import SiteWriter, clean_leftovers, lock_output, read_marker, sha256_file, site_digest

Log = Callable[[str], None]
RACY_NS = 2_000_000_000          # a file stamped this recently is hashed, not trusted by its stamp
RACY_READ_LIMIT = 64 * 1024 * 1024   # a larger recent file is not hashed for the shortcut: the build runs
MARKDOWN_AHEAD_MIN = 100        # fewer missing bodies than this are rendered while reading


def project_settings(config: Config) -> str:
    """The config as cache keys take it: wherever the project is (a CI checkout with a restored
    cache may be anywhere), never its absolute path; what the outputs are made from is the same."""
    return repr(dataclasses.replace(config, root=Path(".")))


# --- keys: what each output is made of ---------------------------------------------------------------

def globals_key(templates_digest: str, config: Config, fonts: tuple[str, ...]) -> str:
    """What every templated output shares: the templates, the config and the fonts by their bytes."""
    return key("globals", templates_digest, project_settings(config), *fonts)


def output_key(output: Output, *derived: str, globals_: str = "") -> str:
    """An output's key: its kind and place; what the graph says it is made of (`Output.made_of`);
    what its stage derives once other outputs exist (a page's values with the PDFs' facts, as its
    renderer derives them; a card sheet part's copies; a QR code's recipe as its maker draws it);
    and, for an output drawn from templates, what every one shares (`globals_key`). What its
    template read is checked apart, against its record (`Memo.reused`)."""
    return key(output.kind, globals_, output.dest, *(_made(value) for value in output.made_of), *derived)


def _made(value: object) -> str:
    """A page is made of what it is, its own fields (each model object in them by its name); any
    other model object by its name, beside its content's digests (a version's `source_sha`); texts
    and digests as they are."""
    return deps.fields(value) if isinstance(value, Page) else deps.shallow(value)


def card_pdf_key(html: str, fonts: tuple[str, ...]) -> str:
    return key("cards", html, *fonts)


def glyphs_key(source_sha: str, fonts: tuple[str, ...]) -> str:
    return key("glyphs", source_sha, "\0".join(fonts))


def search_key(version: str, dest: str) -> str:
    return key("search", version, dest)


def recent_key(version: str, pages: Iterable[tuple[str, str]]) -> str:
    """The recent bundle by its pages, each by its SHA-256."""
    return key("recent", version, *(f"{d}\0{sha}" for d, sha in pages))


def markdown_key(body: str, first_line: int) -> str:
    return key("markdown", str(first_line), body)


def stamps_key(target: Path) -> str:
    return key("stamps", str(target))


def unchanged_key(out: Path) -> str:
    return key("unchanged", str(out))


def font_digests(paths) -> tuple[str, ...]:
    """The project's fonts by their bytes, never their names or times alone: a font replaced under
    the same name changes every output drawn with it."""
    return tuple(deps.digest(path.read_bytes()) for path in paths)


def materials(config: Config, media) -> Materials:
    """The fonts and images the config names (`preflight.Media`), by their bytes: read once a
    build, and named by every output drawn with them (`graph.Materials`)."""
    picture = media.logo or media.emblem_image
    return Materials(fonts=font_digests(media.fonts),
                     emblem=file_sha(config.root / media.emblem) if media.emblem else "",
                     picture=deps.digest(picture.png) if picture is not None else "",
                     logo=deps.digest(media.logo.png) if media.logo is not None else "")


def compiled_key(name_key: str, checksum: str) -> str:
    """A template's compiled code by its name and source (Jinja's own digests), with this code's
    digest (`cache.key`): the environment's settings and the sandbox's limits are code."""
    return key("jinja", name_key, checksum)


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled by an earlier build, kept in the cache: compiling the theme's and the
    project's templates was 0.17 s of every build that renders anything. Compiled code is code:
    it is read only from an authenticated entry (a forged or torn one is a miss), and Jinja
    checks the source's checksum and its own and Python's versions before using it."""

    def __init__(self, store: Cache) -> None:
        self.store = store

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        raw = self.store.get("jinja", compiled_key(bucket.key, bucket.checksum))
        if raw is not None:
            bucket.bytecode_from_string(raw)       # a wrong magic or checksum leaves it empty

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store.put("jinja", compiled_key(bucket.key, bucket.checksum), bucket.bytecode_to_string())


# --- outputs with what they read -------------------------------------------------------------------

class Memo:
    """One build's memo over the cache and the writer: an output reused when it is proven unchanged,
    else kept with what it read. `rendered` counts the outputs made this time."""

    def __init__(self, store: Cache, writer: SiteWriter, root: Path, resolver: deps.Resolver,
                 index: str = "") -> None:
        self.store = store
        self.writer = writer
        self.root = root
        self.resolver = resolver     # digests what a template read; replaced once the books are known
        self.rendered = 0
        # The last build's outputs into this output folder, in one record (`keep_index`): an output
        # found there is checked without reading its own record. `index`: its cache entry.
        self.index = index
        self.previous = load_index(store.get("index", index)) if index else Index([], {})
        self.outputs: dict[str, list] = {}      # this build's: static -> [dest, sha, bytes, tokens, extra]
        self._unchanged: dict[int, bool] = {}   # the index's token number -> digests as then (this resolver)
        self._judged_by: deps.Resolver | None = None

    def recall(self, static: str) -> dict | None:
        """The record of an output made from `static` inputs, if everything it read is unchanged
        and its bytes are at hand (in the previous output or the cache)."""
        raw = self.store.get("trace", static)
        if raw is None:
            return None
        try:
            head, _, inline = raw.partition(b"\n")
            record = json.loads(head)
            if record.get("inline"):
                record["data"] = inline
            unchanged = all(self.resolver.token_digest(t) == d for t, d in record["deps"].items()) \
                and all(file_sha(located(p, self.root)) == s for p, s in record.get("files", {}).items())
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return record if unchanged else None

    def reused(self, static: str, dest: str) -> dict | None:
        """The output at `dest` written again from its record, if it is proven unchanged; else None."""
        record = self._indexed(static, dest)
        if record is not None:
            return record
        record = self.recall(static)
        if record is None or not self.put_back(dest, record):
            return None
        self._listed(static, dest, record, record["deps"])
        return record

    def _indexed(self, static: str, dest: str) -> dict | None:
        """The output as the last build's index has it, when everything it read is unchanged and
        the previous output holds its very bytes (linked); else None (its own record decides)."""
        entry = self.previous.outputs.get(static)
        if entry is None or entry[0] != dest:
            return None
        if self._judged_by is not self.resolver:
            self._unchanged, self._judged_by = {}, self.resolver
        names = self.previous.tokens
        for number in entry[3]:
            same = self._unchanged.get(number)
            if same is None:
                name, digest = names[number]
                same = self._unchanged[number] = self.resolver.token_digest(name) == digest
            if not same:
                return None
        if not self.writer.reuse(dest, entry[1]):
            return None
        record = dict(entry[4], sha256=entry[1], bytes=entry[2])
        self.outputs[static] = [dest, entry[1], entry[2], [names[n][0] for n in entry[3]], entry[4]]
        return record

    def _listed(self, static: str, dest: str, record: dict, tokens: Iterable[str]) -> None:
        """An output of this build, for the next build's index; not a book (its record also names
        the files WeasyPrint read, checked by their bytes)."""
        if "files" not in record:
            extra = {k: v for k, v in record.items() if k not in _NOT_EXTRA}
            self.outputs[static] = [dest, record["sha256"], record["bytes"], list(tokens), extra]

    def keep_index(self) -> None:
        """The index of this build's outputs, for the next build into the same output (`index`):
        each output's key, place, bytes and what it read, every token with its digest now."""
        if not self.index:
            return
        numbers: dict[str, int] = {}
        outputs = {}
        for static, (dest, sha, size, tokens, extra) in self.outputs.items():
            outputs[static] = [dest, sha, size, [numbers.setdefault(t, len(numbers)) for t in tokens], extra]
        tokens = [[name, self.resolver.token_digest(name)] for name in numbers]
        self.store.put("index", self.index, json.dumps(dict(tokens=tokens, outputs=outputs)).encode())

    def put_back(self, dest: str, record: dict) -> bool:
        """Write a recalled output: linked from the previous output, or its bytes from the cache."""
        sha = record["sha256"]
        if self.writer.reuse(dest, sha):
            return True
        data = record["data"] if record.get("inline") else self.store.get("blob", sha)
        if data is None or hashlib.sha256(data).hexdigest() != sha:
            return False
        self.writer.write(dest, data)
        return True

    def put_back_all(self, files: list[list[str]]) -> bool:
        """Every file of a remembered set, or none: linked from the previous output where it
        still is, else its bytes from the cache (each checked against its SHA-256)."""
        todo = [(dest, sha) for dest, sha in files if not self.writer.has(dest, sha)]
        blobs = {dest: self.store.get("blob", sha) for dest, sha in todo}
        if not all(blobs[d] is not None and hashlib.sha256(blobs[d]).hexdigest() == s for d, s in todo):
            return False
        for dest, sha in files:
            if not self.writer.reuse(dest, sha):
                self.writer.write(dest, blobs[dest])
        return True

    def reads(self, tokens: Iterable[str]) -> dict[str, str]:
        return {t: self.resolver.token_digest(t) for t in sorted(tokens)}

    def keep(self, static: str, dest: str, data: bytes, tokens: Iterable[str], *, inline: bool = False,
             **extra) -> dict:
        """Write a fresh output and remember it with what it read. Small outputs (pages) keep their
        bytes in the record itself, one cache file each; large ones (books) in a blob of their own,
        so checking a record never reads a PDF."""
        sha = self.writer.write(dest, data)
        record = dict(sha256=sha, bytes=len(data), inline=inline, deps=self.reads(tokens), **extra)
        entry = json.dumps(record, sort_keys=True).encode()
        if inline:
            entry += b"\n" + data
        else:
            self.store.put("blob", sha, data)
        self.store.put("trace", static, entry)
        self._listed(static, dest, record, record["deps"])
        self.rendered += 1
        return record

    def keep_reads(self, static: str, tokens: Iterable[str], **extra) -> None:
        """Remember what an intermediate result (a card part's HTML, by its key) read, no output."""
        self.store.put("trace", static, json.dumps({"deps": self.reads(tokens), **extra}, sort_keys=True).encode())

    def copied(self, dest: str, source: Path) -> None:
        """A file copied as it is: linked from the previous output when its bytes (remembered by its
        stamps) are there, else copied and its SHA-256 remembered."""
        entry, known = stat_known(self.store, source)
        if known is not None and self.writer.reuse(dest, known):
            return
        sha = self.writer.copy(dest, source)
        self.store.put("stat", entry, sha.encode())

    def get(self, kind: str, entry: str) -> bytes | None:
        return self.store.get(kind, entry)

    def put(self, kind: str, entry: str, data: bytes, *, made: bool = False) -> None:
        """Keep `data`; `made`: a result rendered this time, counted."""
        self.store.put(kind, entry, data)
        self.rendered += made

    def json_record(self, kind: str, entry: str, *keys: str) -> dict | None:
        return json_record(self.store.get(kind, entry), *keys)


_NOT_EXTRA = frozenset({"sha256", "bytes", "inline", "deps", "data"})


@dataclasses.dataclass(frozen=True)
class Index:
    """The last build's outputs: `tokens`, [name, digest] by number; `outputs`, by static key:
    [dest, sha256, bytes, token numbers, the record's other fields]."""

    tokens: list[list[str]]
    outputs: dict[str, list]


def load_index(raw: bytes | None) -> Index:
    """An index as `keep_index` wrote it; an empty one when absent or of another layout."""
    record = json_record(raw, "tokens", "outputs")
    if record is None:
        return Index([], {})
    try:
        tokens, outputs = record["tokens"], record["outputs"]
        count = len(tokens)
        if not all(isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in tokens):
            return Index([], {})
        for entry in outputs.values():
            dest, sha, size, numbers, extra = entry
            if not (isinstance(dest, str) and isinstance(sha, str) and isinstance(size, int)
                    and isinstance(extra, dict) and all(isinstance(n, int) and 0 <= n < count for n in numbers)):
                return Index([], {})
    except (ValueError, TypeError, AttributeError):
        return Index([], {})
    return Index(tokens, outputs)


def index_key(out: Path) -> str:
    return key("index", str(out))


def json_record(raw: bytes | None, *keys: str) -> dict | None:
    """A cache record as a dict holding `keys`; None when absent or of another layout."""
    try:
        record = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return record if isinstance(record, dict) and all(k in record for k in keys) else None


def known_glyphs(store: Cache, versions: list, fonts: tuple[str, ...]) -> tuple[list, Callable[[], None]]:
    """The versions whose glyph check is not remembered for these fonts (their bytes), and what
    remembers them once the check has passed."""
    entries = {id(v): glyphs_key(v.source_sha, fonts) for v in versions}
    todo = [v for v in versions if store.get("glyphs", entries[id(v)]) is None]

    def passed() -> None:
        for version in todo:
            store.put("glyphs", entries[id(version)], b"ok")
    return todo, passed


def coverage(store: Cache, paths: tuple[Path, ...], digests: tuple[str, ...]) -> frozenset[str]:
    """Every character the bundled fonts and the project's (`paths`, of these `digests`: their
    bytes) can draw, remembered by the fonts' bytes: reading the character maps of seven faces
    was 0.1 s of every build that checks a text's glyphs."""
    entry = key("coverage", *font_digests(BUNDLED_FONTS), *digests)
    raw = store.get("coverage", entry)
    if raw is not None:
        try:
            return frozenset(map(chr, json.loads(raw)))
        except (ValueError, TypeError):
            pass
    found = fonts_coverage(paths)
    store.put("coverage", entry, json.dumps(sorted(found)).encode())
    return frozenset(map(chr, found))


_PACKAGE = Path(__file__).resolve().parent


def portable(path: str, root: Path) -> str:
    """A file a book read, as its record names it: within the project or speechgen's own theme,
    by its place there, so that a checkout elsewhere (a CI runner) finds it again."""
    for base, prefix in ((root, ""), (_PACKAGE, "<speechgen>/")):
        try:
            return prefix + Path(path).relative_to(base).as_posix()
        except ValueError:
            continue
    return path


def located(name: str, root: Path) -> Path:
    """Where a file named by `portable` is now (a name from an older record is absolute)."""
    if name.startswith("<speechgen>/"):
        return _PACKAGE / name[len("<speechgen>/"):]
    return root / name


def file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "absent"


def stat_known(store: Cache, path: Path) -> tuple[str, str | None]:
    """A file's stat entry in the cache, and the SHA-256 remembered under it: by size, time stamp
    and inode, except for a file stamped within the file system's clock tick (read it again)."""
    stat = path.stat()
    entry = key("stat", str(path), f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}")
    if time.time_ns() - stat.st_mtime_ns < RACY_NS:
        return entry, None
    known = store.get("stat", entry)
    return entry, known.decode() if known is not None else None


def sha_memo(store: Cache) -> Callable[[Path], str]:
    """A file's SHA-256, remembered by its stat entry (`stat_known`)."""
    def sha_of(path: Path) -> str:
        entry, known = stat_known(store, path)
        if known is not None:
            return known
        sha = file_sha(path)
        store.put("stat", entry, sha.encode())
        return sha
    return sha_of


# --- reading: Markdown bodies and sources ----------------------------------------------------------

def remembered_markdown(store: Cache) -> reader.Render:
    """Markdown is most of reading's cost: keep each body's rendering by its text (as JSON)."""
    def render(body: str, first_line: int) -> markdown.Rendered:
        entry = markdown_key(body, first_line)
        hit = store.get("markdown", entry)
        if hit is not None:
            try:
                return markdown.Rendered.from_json(hit)
            except (ValueError, KeyError, TypeError):
                pass                               # an entry from another layout: render again
        rendered = markdown.render(body, first_line)
        store.put("markdown", entry, rendered.to_json())
        return rendered
    return render


def markdown_ahead(config: Config, store: Cache, mapper: Callable[..., Iterator], log: Log) -> None:
    """Render (with `mapper`, in worker processes) every body the cache does not hold yet, so that
    reading (one source after another) finds each in the cache: Markdown is most of a cold read's
    time, and a machine has more than one core. Nothing when only a few are missing. Bodies are
    read again as the workers take them, never all held at once; what they made is kept as it
    comes, so a build stopped midway (the build's `mapper` stops) keeps it."""
    if not store.writable:
        return
    hints: dict[Path, str] = {}
    known = set((store.get("ahead", ahead_key()) or b"").decode("ascii", "replace").split())
    now: set[str] = set()          # the hints of the sources whose bodies are in the cache now

    def seen(path: Path) -> bool:
        """This file, at these stamps, was last read with its body in the cache: not read now.
        Only a hint (a wrong one costs a body rendered while reading, never a wrong page)."""
        stamps = settled(path)
        if stamps is None:
            return False
        hint = hints[path] = key("ahead", os.fsencode(path), stamps)
        if hint in known:
            now.add(hint)
            return True
        return False

    missing = []
    for path, body, line in reader.bodies(config, skip=seen):
        if not store.has("markdown", markdown_key(body, line)):
            missing.append(path)
        elif path in hints:
            now.add(hints[path])
    if len(missing) >= MARKDOWN_AHEAD_MIN:
        todo = ((body, line) for _, body, line in reader.bodies(config, missing))
        for entry, made in mapper(_render_markdown, todo, count=len(missing)):
            store.put("markdown", entry, made)
        now.update(hints[path] for path in missing if path in hints)   # their bodies are in now
        log(f"markdown: {len(missing)} bodies rendered ahead")
    if now != known:               # one entry for every hint: 1,500 empty files were 0.6 s of a cold build
        store.put("ahead", ahead_key(), "\n".join(sorted(now)).encode("ascii"))


def ahead_key() -> str:
    """The hints of `markdown_ahead`: one entry for the cache folder."""
    return key("ahead", "the last pass")


def _render_markdown(item: tuple[str, int]) -> tuple[str, bytes]:
    """A body's cache entry and its rendering (in a worker: the body never comes back)."""
    body, line = item
    return markdown_key(body, line), markdown.render(body, line).to_json()


def sources_key() -> str:
    """The last reading's records: one entry for the cache folder (`RememberedSources`)."""
    return key("sources", "the last reading")


class RememberedSources:
    """A source read before, holding the same bytes at the same place in the project and read
    with the same config, with nothing wrong in it, is not parsed again: what reading found is
    remembered (`parsed_record`), keyed by the file's SHA-256, never its stamps or absolute
    path (a fresh checkout, a CI runner's with the cache restored, finds every entry). Its body is
    rendered (from the Markdown cache) only if a stage asks for it.

    The records of the last reading are kept together in one cache entry (`keep`), each under its
    own key: writing 1,500 files of a few hundred bytes was 0.7 s of a cold build's reading, which
    runs on one core, and reading them back 1,500 opens and checks on every edit."""

    def __init__(self, store: Cache, config: Config) -> None:
        self.store = store
        self.settings = project_settings(config)
        self.known = _records(store.get("sources", sources_key()))
        self.now: dict[str, bytes] = {}

    def __call__(self, path: Path, config: Config, problems: Problems, render: reader.Render):
        settings = self.settings
        data = reader.read_project_file(path, config, Problems(config.root), reader.MAX_SOURCE_BYTES)
        entry = ""
        if data is not None:             # else read_source says why it cannot be read
            try:
                place = path.relative_to(config.root).as_posix()
            except ValueError:
                place = str(path)
            sha = hashlib.sha256(data).hexdigest()
            entry = key("parsed", settings, place, sha)
            raw = self.known.get(entry)
            if raw is not None:
                parsed = recalled_source(raw, data, sha, path, config, render)
                if parsed is not None:
                    self.now[entry] = raw
                    return parsed
        count = len(problems.items)
        parsed = reader.read_source(path, config, problems, render)
        if entry and parsed is not None and len(problems.items) == count \
                and parsed.version.source_sha == sha:          # not changed between the two reads
            self.now[entry] = parsed_record(parsed)
        return parsed

    def keep(self) -> None:
        """This reading's records, for the next one, unless they are the ones it found (a record
        is made from what its key names)."""
        if self.now.keys() != self.known.keys():
            self.store.put("sources", sources_key(),
                           b"".join(e.encode() + b"\t" + r + b"\n" for e, r in sorted(self.now.items())))


def _records(raw: bytes | None) -> dict[str, bytes]:
    """The kept records: a line each, its key, a tab and the record (JSON: no line break in it)."""
    records: dict[str, bytes] = {}
    for line in (raw or b"").splitlines():
        entry, tab, record = line.partition(b"\t")
        if tab:
            records[entry.decode("ascii", "replace")] = record
    return records


def recalled_source(raw: bytes, data: bytes, sha: str, path: Path, config: Config,
                    render: reader.Render) -> "reader._Parsed | None":
    """A remembered reading of `data` (the file's bytes, of SHA-256 `sha`); None to read it."""
    try:
        parsed = parsed_from_record(raw, path)
        text = data.decode("utf-8")
    except (ValueError, KeyError, TypeError):
        return None
    if sha != parsed.version.source_sha:
        return None

    def body() -> str:           # reads the file again: a build holds no text it was not asked for
        again = reader.read_project_file(path, config, Problems(config.root), reader.MAX_SOURCE_BYTES)
        split = reader.split_front_matter(again.decode("utf-8", "replace")) if again is not None else ""
        html = render(split[1], split[2]).html if not isinstance(split, str) else ""
        if hashlib.sha256(html.encode("utf-8")).hexdigest() != parsed.version.body_sha:
            raise SourceError([Problem(str(path), None, "its body renders otherwise than when it was read; "
                                       "build again")])
        return html
    texts.STORE.put(text)
    texts.STORE.expect(parsed.version.body_sha, body)
    return parsed


def parsed_record(parsed: reader._Parsed) -> bytes:
    """What reading found in a valid source, its long texts by digest: `parsed_from_record`
    makes the same reading again without reading the file's front matter or body."""
    v = parsed.version
    return json.dumps(dict(
        year=parsed.year, stem=parsed.stem, slug=parsed.slug, status=parsed.status,
        recipients=parsed.recipients, recipients_line=parsed.recipients_line, images=parsed.images,
        lang=v.lang, title=v.title, speaker=v.speaker, date=v.date.isoformat(), source_sha=v.source_sha,
        body_sha=v.body_sha, headings=[(h.level, h.id, h.text) for h in v.headings], subtitle=v.subtitle,
        occasion=v.occasion, place=v.place, summary=v.summary, version_images=v.images, text_sha=v.text_sha,
        corrections=[(c.date.isoformat(), c.notes, c.line) for c in v.corrections],
        embargo=v.embargo.isoformat() if v.embargo is not None else None, embargo_line=v.embargo_line,
        withdrawn=(parsed.withdrawn.date.isoformat(), parsed.withdrawn.notes, parsed.withdrawn.line)
        if parsed.withdrawn is not None else None, aliases=parsed.aliases,
    ), ensure_ascii=False, sort_keys=True).encode("utf-8")


def parsed_from_record(record: bytes, path: Path) -> reader._Parsed:
    """The reading of `parsed_record`, for the source at `path`; its texts must be in (or
    expected by) `speechgen.texts`. Raises ValueError, KeyError or TypeError on a foreign record."""
    r = json.loads(record)
    version = Version.known(
        lang=r["lang"], title=r["title"], speaker=r["speaker"], date=dt.date.fromisoformat(r["date"]),
        source=path, source_sha=r["source_sha"], body_sha=r["body_sha"],
        headings=tuple(Heading(int(level), id_, text) for level, id_, text in r["headings"]),
        subtitle=r["subtitle"], occasion=r["occasion"], place=r["place"], summary=r["summary"],
        images=tuple(r["version_images"]), text_sha=r["text_sha"],
        corrections=tuple(Correction(dt.date.fromisoformat(d), tuple(tuple(n) for n in notes), int(line))
                          for d, notes, line in r["corrections"]),
        embargo=dt.datetime.fromisoformat(r["embargo"]) if r["embargo"] is not None else None,
        embargo_line=int(r["embargo_line"]))
    withdrawn = r["withdrawn"]
    return reader._Parsed(path, r["year"], r["stem"], r["slug"], r["status"], tuple(r["recipients"]),
                          r["recipients_line"], version, tuple((src, int(line)) for src, line in r["images"]),
                          Withdrawal(dt.date.fromisoformat(withdrawn[0]), tuple(tuple(n) for n in withdrawn[1]),
                                     int(withdrawn[2])) if withdrawn is not None else None,
                          tuple((alias, int(line)) for alias, line in r["aliases"]))


# --- the unchanged project: nothing read, nothing written ------------------------------------------

def inputs(config: Config, settings: tuple, since: int) -> str | None:
    """One SHA-256 over everything a build reads: its settings, the config, speechgen's code, and
    every file of the project a build may open (speeches, templates, static files, recipients, the
    editions, the files the config names, the signing key the environment names), each by its path,
    size, stamps and inode; a file stamped less than `RACY_NS` before `since` (the start of the
    build that is or was recorded) by its bytes instead, since its stamps cannot tell a change
    made in the same tick. None, so that the build reads everything, when a folder among them is
    a link, a file is not a regular file, or a recent file is too large to hash here."""
    digest = hashlib.sha256(key("inputs", *map(str, settings), repr(config)).encode())
    try:
        from importlib import metadata

        digest.update(metadata.version("pagefind").encode())
    except Exception:                  # not installed: the settings already say no search
        digest.update(b"-")
    secret = os.environ.get(signing.KEY_ENV, "").strip()
    passphrase = os.environ.get(signing.PASSPHRASE_ENV, "")
    digest.update(hashlib.sha256(f"{secret}\0{passphrase}".encode()).digest())
    named = (config.pdf.emblem, *config.pdf.fonts, config.qr.logo, config.signing.certificate)
    roots = [config.path, config.speeches_dir, config.templates_dir, config.static_dir,
             config.recipients_file, config.ledger_file, config.editions_dir,
             config.root / signing.RENEWALS_DIR,     # the renewal statements `keys rollover` keeps
             *(config.root / name.lstrip("/") for name in named if name),
             *([Path(secret).expanduser()] if secret else [])]
    fresh = since - RACY_NS
    for root in roots:
        for path in files_under(root):
            if path is None:
                return None
            try:
                info = os.stat(path)
                if not S_ISREG(info.st_mode):
                    return None                   # a FIFO, a device: the build reads it and says why
                if info.st_mtime_ns > fresh or info.st_ctime_ns > fresh:
                    if info.st_size > RACY_READ_LIMIT:
                        return None
                    digest.update(os.fsencode(path) + f"\0bytes {sha256_file(path)}\n".encode())
                    continue
            except OSError:
                digest.update(os.fsencode(path) + b"\0absent\n")
                continue
            digest.update(os.fsencode(path) + f"\0{stamps(info)}\n".encode())
    return digest.hexdigest()


def stamps(info: os.stat_result) -> str:
    """What tells a file's versions apart without reading it: size, both times, inode, mode."""
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}:{info.st_mode}"


def settled(path: Path) -> str | None:
    """A file's stamps, if it is there and was last changed more than RACY_NS ago (a change in
    the same clock tick may leave them as they were); else None, and the file is read."""
    try:
        info = path.stat()
    except OSError:
        return None
    return None if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) < RACY_NS else stamps(info)


def files_under(root: Path) -> Iterator[Path | None]:
    """`root` if it is a file (or absent), else every file under it, in a stable order; None for
    a linked folder, whose files a stamp of the link does not follow."""
    if not root.is_dir():
        yield root
        return
    if root.is_symlink():
        yield None
        return
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in subfolders:
            if os.path.islink(os.path.join(folder, name)):
                yield None
                return
        for name in sorted(names):
            yield Path(folder, name)


def load_stamps(raw: bytes | None) -> dict[str, int]:
    try:
        found = json.loads(raw) if raw else {}
        return {str(k): int(v) for k, v in found.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def output_stamps(store: Cache, target: Path) -> dict[str, int]:
    """The modification time of every file the last build into `target` wrote."""
    return load_stamps(store.get("stamps", stamps_key(target)))


def keep_output_stamps(store: Cache, target: Path, found: dict[str, int]) -> None:
    store.put("stamps", stamps_key(target), json.dumps(found).encode())


def unchanged_output(store: Cache, out: Path, inputs: Callable[[int], str | None], notice: Log) -> dict | None:
    """What the last build into `out` reported, if the project's `inputs` (digested as of that
    build's start) are what it read and `out` still holds every file as that build left it (its
    record, each file's size and stamp); else None."""
    raw = store.get("unchanged", unchanged_key(out))
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        if record["inputs"] != inputs(int(record["since"])) or (
                record["valid_until"] is not None and time.time() >= record["valid_until"]):
            return None                   # a signing certificate expired since: preflight says so
        summary = dict(record["summary"])
        summary["unreleased"] = tuple(tuple(pair) for pair in summary["unreleased"])
        summary["drafts"] = tuple(summary["drafts"])
        summary["proofs"] = tuple(summary.get("proofs", ()))
        summary["embargoed"] = tuple(tuple(e) for e in summary.get("embargoed", ()))
        summary["embargo_passed"] = tuple(tuple(e) for e in summary.get("embargo_passed", ()))
        written = output_stamps(store, out)
        if not out.is_dir():
            return None
        lock = lock_output(out, exclusive=True, wait=lambda: notice(
            f"{out}: another build is writing here; waiting for it to finish (build lain sedang menulis; menunggu)"))
        try:
            clean_leftovers(out)           # what a killed build left beside the output
            files, digest = read_marker(out)
            if digest != record["site"] or not files or site_digest(files) != digest:
                return None
            for dest, (_, size) in files.items():
                info = os.stat(out / dest)
                if info.st_size != size or written.get(dest) != info.st_mtime_ns:
                    return None
        finally:
            os.close(lock)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return {**summary, "notices": list(record["notices"]), "moments": record.get("moments"),
            "private": record.get("private", False)}


def keep_unchanged(store: Cache, out: Path, **record) -> None:
    """What `unchanged_output` finds again: the inputs' digest, the output's, the report."""
    store.put("unchanged", unchanged_key(out), json.dumps(record).encode())


def moments(known: list[dt.datetime], moment: dt.datetime) -> list[str | None]:
    """The moments around `moment` among `known` (every embargo's, and those its released editions
    were released under): the last passed and the next to come. The site built as of `moment`
    is the site of every moment between them."""
    passed = [m for m in known if m <= moment]
    later = [m for m in known if m > moment]
    return [max(passed).isoformat() if passed else None, min(later).isoformat() if later else None]


def same_moment(recorded, moment: dt.datetime) -> bool:
    """`moment` lies between the embargo moments a recorded build saw around its own (`moments`):
    no embargo opened or closed in between, so the recorded site is this moment's site too."""
    try:
        last, following = (dt.datetime.fromisoformat(m) if m is not None else None for m in recorded)
    except (TypeError, ValueError):
        return False
    return (last is None or moment >= last) and (following is None or moment < following)
