"""The house rules, checked on the source: adapters at the edges, reports only render, no import
circles between kinresist modules (module-level imports, TYPE_CHECKING blocks excluded)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "kinresist"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(tree: ast.Module, module: str, *, top_level_only: bool) -> set[str]:
    """kinresist modules imported by ``tree`` (optionally only at module level)."""
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                out.update(a.name + ":" for a in node.names if a.name.startswith("kinresist"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = module.split(".")[: -node.level]
                    base = ".".join([*pkg, base]) if base else ".".join(pkg)
                if base.startswith("kinresist"):
                    # "from pkg import submodule" depends on the submodule; "from pkg import name"
                    # on the package (resolved against the module list by the caller)
                    out.update(f"{base}:{a.name}" for a in node.names)
            if not top_level_only:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        visit([child])
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                for h in getattr(node, "handlers", []):
                    visit(h.body)

    visit(tree.body)
    return out


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _resolve(imports: set[str], modules: set[str]) -> set[str]:
    out = set()
    for item in imports:
        base, _, name = item.partition(":")
        sub = f"{base}.{name}" if name else base
        out.add(sub if sub in modules else base)
    return out


def _all() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(p): (p, ast.parse(p.read_text())) for p in SRC.rglob("*.py")}


def test_only_adapters_import_the_cli() -> None:
    offenders = []
    for name, (_, tree) in _all().items():
        if _within(name, ("kinresist.cli", "kinresist.web")):
            continue
        deps = {i.partition(":")[0] for i in _imports(tree, name, top_level_only=False)}
        if any(_within(m, ("kinresist.cli",)) for m in deps):
            offenders.append(name)
    assert offenders == []


def test_only_adapters_and_demo_import_reports() -> None:
    allowed = ("kinresist.cli", "kinresist.web", "kinresist.reports", "kinresist.demo")
    offenders = []
    for name, (_, tree) in _all().items():
        if _within(name, allowed):
            continue
        deps = {i.partition(":")[0] for i in _imports(tree, name, top_level_only=False)}
        if any(_within(m, ("kinresist.reports",)) for m in deps):
            offenders.append(name)
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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

    import sys

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return cycles


def test_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    modules = _all()
    names = set(modules)
    graph = {
        name: {
            m
            for m in _resolve(_imports(tree, name, top_level_only=True), names)
            if m in names and m != name
        }
        for name, (_, tree) in modules.items()
    }
    cycles = _cycles(graph)
    assert cycles == []


def test_reports_compute_no_statistics() -> None:
    """Report modules import neither scipy/statsmodels nor an engine's numerics."""
    offenders = []
    for path in (SRC / "reports").glob("*.py"):
        text = path.read_text()
        for banned in ("scipy", "statsmodels", "np.linalg", "lifelines"):
            if banned in text:
                offenders.append(f"{path.name}: {banned}")
    assert offenders == []
