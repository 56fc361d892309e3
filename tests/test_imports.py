"""speechgen's own modules import one another in one direction only.

Every `import` of the package is read with `ast`, wherever it is in the file: at the top, inside
a function, under `if TYPE_CHECKING:`. Three checks hold the layering of docs/architecture.md:

- no import circle among speechgen's modules (a failure shows the circle as a chain);
- each module imports only modules of its own layer or the layers below it (`LAYERS`), so that,
  for one, `editions` knows neither `build` nor `graph`, and no renderer imports `editions`,
  `reader` or `build`;
- speechgen's own modules are imported at the top of a file, except the lazy imports listed in
  `LAZY`, each with its reason. (Heavy third-party libraries, WeasyPrint, pyHanko, Pagefind,
  Pillow, qrcode, boto3, are imported inside functions by design: docs/architecture.md; this
  test is about speechgen's own modules.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "speechgen"

# The layers, lowest first. A module may import modules of its own layer and of the layers
# below it; never one above. Within a layer, the circle check keeps the order one way.
LAYERS: tuple[tuple[str, ...], ...] = (
    # values and leaf services: no stage of the pipeline
    ("speechgen", "speechgen.errors", "speechgen.labels", "speechgen.texts", "speechgen.model", "speechgen.yamlsafe",
     "speechgen.markdown", "speechgen.config", "speechgen.fonts", "speechgen.cache", "speechgen.writer",
     "speechgen.signing", "speechgen.workers"),
    ("speechgen.reader",),                   # read: sources -> Sources
    ("speechgen.editions",),                 # the ledger: Sources -> Editions
    ("speechgen.graph",),                    # Site: every output path and URL
    ("speechgen.deps", "speechgen.templates", "speechgen.printed"),
    ("speechgen.render", "speechgen.render.qr", "speechgen.render.changes", "speechgen.render.html",
     "speechgen.render.manifest", "speechgen.render.pdf", "speechgen.render.cards", "speechgen.render.search",
     "speechgen.render.preview"),           # renderers: values in, bytes out
    ("speechgen.preflight",),
    ("speechgen.memo",),                     # the one memo: cache keys, kept results
    ("speechgen.indexing", "speechgen.stages", "speechgen.build"),   # the build and its stages
    # commands over the library
    ("speechgen.release", "speechgen.check", "speechgen.serve", "speechgen.verify", "speechgen.publish",
     "speechgen.scaffold"),
    ("speechgen.cli", "speechgen.__main__"),
)

# Imports of speechgen's own modules inside a function (module, imported module) -> why.
LAZY: dict[tuple[str, str], str] = {
    **{("speechgen.cli", name): "each command imports what it runs, so that `speechgen --help` starts in "
       "about 40 ms and a light command (new, init, verify, keys) without the engine (build and its stages "
       "cost about 0.3 s; config, model and writer some 30 ms each)"
       for name in ("speechgen.build", "speechgen.check", "speechgen.config",
                    "speechgen.graph", "speechgen.model", "speechgen.publish", "speechgen.reader",
                    "speechgen.release", "speechgen.scaffold", "speechgen.serve", "speechgen.signing",
                    "speechgen.verify", "speechgen.writer")},
    ("speechgen.serve", "speechgen.build"): "the preview's server process is forked before the builder "
    "imports the engine, so it answers at once and stays small",
    ("speechgen.serve", "speechgen.config"): "read in the builder, with the engine, after the server is forked",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package; not the scripts under theme/ (run by hand, never imported)."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))
            if "theme" not in path.relative_to(PACKAGE).parts}


def own_imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """Every speechgen module `name` imports: (module, line, at the top of the file). An import
    under a module-level `if` (TYPE_CHECKING included) or `try` counts as at the top; one inside
    a function or class does not. `from speechgen import x` names module `speechgen.x` when
    there is one, else `speechgen` itself."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                                    ast.ClassDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name in known:
                        found.append((alias.name, child.lineno, top))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target not in known:
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in known else target, child.lineno, top))
            visit(child, inner)

    visit(tree, True)
    return [item for item in found if item[0] != name]


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    return {name: own_imports(name, path, set(known)) for name, path in known.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a chain (first module repeated at the end), or None."""
    state: dict[str, int] = {}              # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = walk(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def test_the_parser_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(
        "from typing import TYPE_CHECKING\nfrom speechgen import graph\nif TYPE_CHECKING:\n"
        "    from speechgen.editions import Editions\n"
        "def f():\n    from . import pdf\n    import speechgen.build\n    from ..model import Speech\n")
    known = {"speechgen", "speechgen.graph", "speechgen.editions", "speechgen.render", "speechgen.render.pdf",
             "speechgen.build", "speechgen.model"}
    assert sorted(own_imports("speechgen.render.x", tmp_path / "x.py", known)) == [
        ("speechgen.build", 7, False), ("speechgen.editions", 4, True), ("speechgen.graph", 2, True),
        ("speechgen.model", 8, False), ("speechgen.render.pdf", 6, False)]


def test_the_circle_finder_reports_a_chain() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_circle() -> None:
    edges = {name: {target for target, _, _ in found} for name, found in graph().items()}
    found = cycle(edges)
    assert found is None, "import circle: " + " -> ".join(found)


def test_every_module_has_a_layer() -> None:
    layered = {name for layer in LAYERS for name in layer}
    assert sorted(set(modules()) - layered) == [], "add the new modules to LAYERS"
    assert sorted(layered - set(modules())) == [], "LAYERS names modules that are gone"


def test_each_module_imports_only_its_layer_and_those_below() -> None:
    level = {name: n for n, layer in enumerate(LAYERS) for name in layer}
    upward = [f"{PACKAGE.name}/{modules()[name].relative_to(PACKAGE)}:{line}: {name} imports {target}"
              for name, found in graph().items() for target, line, _ in found
              if level.get(target, -1) > level.get(name, len(LAYERS))]
    assert not upward, "imports from a layer below to one above:\n" + "\n".join(upward)


@pytest.mark.parametrize("name, forbidden", [
    ("speechgen.editions", ("speechgen.build", "speechgen.graph", "speechgen.printed", "speechgen.release")),
    *[(renderer, ("speechgen.editions", "speechgen.reader", "speechgen.build", "speechgen.preflight"))
      for renderer in ("speechgen.render.cards", "speechgen.render.changes", "speechgen.render.html",
                       "speechgen.render.manifest", "speechgen.render.pdf", "speechgen.render.preview",
                       "speechgen.render.qr", "speechgen.render.search")],
])
def test_the_stages_named_in_the_architecture_stay_apart(name: str, forbidden: tuple[str, ...]) -> None:
    imported = {target for target, _, _ in graph()[name]}
    assert sorted(imported & set(forbidden)) == [], f"{name} imports a stage it must not know"


def test_own_modules_are_imported_at_the_top_unless_listed_lazy() -> None:
    inside = [(name, target, line) for name, found in graph().items() for target, line, top in found if not top]
    unlisted = [f"{PACKAGE.name}/{modules()[name].relative_to(PACKAGE)}:{line}: {name} imports {target} "
                "inside a function" for name, target, line in sorted(inside) if (name, target) not in LAZY]
    assert not unlisted, "move these to the top of the file, or list them in LAZY with why:\n" + "\n".join(unlisted)
    stale = sorted(set(LAZY) - {(name, target) for name, target, _ in inside})
    assert stale == [], "LAZY lists imports that are at the top now (or gone): remove them"
