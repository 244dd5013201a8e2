"""The package's import structure: floors that follow the pipeline, no circles, no upward imports, and
no function-level imports of the project's own modules except the optional extras.

Read from the source with ``ast`` (no module is imported), so a circle hidden behind a lazy import
inside a function counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import REPO

PACKAGES = ("qa", "ui")

#: Each module's floor, by the longest matching prefix; a module imports only from its own floor or
#: lower ones. Ground: records, settings, shared mechanisms. Then the pipeline in order: articles ->
#: chunks/embeddings -> store -> retrieval -> reading/answering -> the engine -> what sits on it.
FLOORS: dict[str, int] = {
    # ground: errors, file writing, statistics, metrics, words; records, settings, the runtime kit
    "qa": 0, "qa.errors": 0, "qa.fileio": 0, "qa.stats": 0, "qa.metrics": 0, "qa.words": 0,
    "qa.types": 1, "qa.config": 1, "qa.runtime": 1, "qa.sentences": 1,
    # the pipeline, in order
    "qa.articles": 2, "qa.dates": 2, "qa.timecues": 2, "qa.chunking": 2, "qa.embedders": 2, "qa.lexical": 2,
    "qa.sources": 2,
    "qa.encoding": 3,
    "qa.store": 4,
    "qa.retrieval": 5,
    "qa.answerers": 6, "qa.reader": 6,
    "qa.engine": 7, "qa.prepare": 7,
    # what sits on the engine's answers
    "qa.vocabulary": 8, "qa.entities": 8, "qa.conversation": 8, "qa.suggestions": 8,
    "qa.textio": 8, "qa.answer_file": 8, "qa.batch": 8, "qa.feedback": 8,
    "qa.evaluation": 9, "qa.distributed": 9,
    "qa.commands": 10, "ui": 10,
    "qa.cli": 11, "qa.__main__": 12,
}

#: Function-level imports of the project's own modules that are allowed: the optional extras, loaded
#: only by the commands that use them (Gradio's chat, Ray), and the exporters, which only ``qa prepare``
#: needs (``import qa.cli`` must load no library: tests/test_cli.py).
LAZY_ALLOWED = {
    ("qa.commands", "ui.app"), ("qa.commands", "qa.distributed"), ("qa.commands", "qa.prepare"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in sorted((REPO / pkg).rglob("*.py")):
            parts = list(f.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = f
    return out


MODULES = _modules()


def _target(name: str, imported: str | None = None) -> str | None:
    """The project module an import statement loads (``from qa.x import y``: ``qa.x.y`` when that is a
    module, else ``qa.x``; ``from qa import QA``: the module ``qa/__init__`` loads it from)."""
    if name.split(".")[0] not in PACKAGES:
        return None
    if imported and f"{name}.{imported}" in MODULES:
        return f"{name}.{imported}"
    if name == "qa" and imported:
        homes = _lazy_homes()
        if imported in homes:
            return homes[imported]
    return name if name in MODULES else None


def _lazy_homes() -> dict[str, str]:
    tree = ast.parse((REPO / "qa" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_HOMES" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _imports(module: str) -> list[tuple[str, bool, int]]:
    """``(target module, at module level, line)`` for each import of a project module (imports under
    ``if TYPE_CHECKING:`` are left out: they never run)."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    pkg = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    t = _target(alias.name)
                    if t:
                        found.append((t, top, child.lineno))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(pkg.split(".")[: len(pkg.split(".")) - child.level + 1] + ([base] if base else []))
                for alias in child.names:
                    t = _target(base, alias.name)
                    if t:
                        found.append((t, top, child.lineno))
            visit(child, inner)

    visit(tree, True)
    return [(t, top, line) for t, top, line in found if t != module]


def _floor(module: str) -> int:
    best = max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len, default=None)
    assert best is not None, f"{module} has no floor in tests/test_layout.py FLOORS: add it where it belongs"
    return FLOORS[best]


def test_every_module_has_a_floor():
    for module in MODULES:
        _floor(module)


def test_no_upward_imports():
    bad = [f"{m}:{line} imports {t} (floor {_floor(t)} above its {_floor(m)})"
           for m in MODULES for t, _top, line in _imports(m)
           if _floor(t) > _floor(m) and not t.startswith(m + ".") and not m.startswith(t + ".")]
    assert bad == []


def test_no_import_circles():
    graph = {m: {t for t, _top, _line in _imports(m)} for m in MODULES}
    # a package's __init__ importing its own submodules is how packages expose names, not a circle
    for m in graph:
        graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    assert cycles == []


def test_own_modules_are_imported_at_the_top():
    lazy = [f"{m}:{line} imports {t} inside a function"
            for m in MODULES for t, top, line in _imports(m)
            if not top and not any(m == a and (t == b or t.startswith(b + ".")) for a, b in LAZY_ALLOWED)]
    assert lazy == []


def test_the_checks_catch_what_they_look_for():
    """The walker sees lazy and relative imports and resolves the package's lazy names."""
    assert _target("qa", "QA") == "qa.engine"
    assert _target("numpy") is None
    assert "qa.engine" in MODULES and _floor("qa.engine") > _floor("qa.types")
