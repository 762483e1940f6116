"""Import hygiene of the evalkit package, read from the source with ast (nothing is imported):
no import cycle among evalkit modules, lazy imports inside functions included, and the layers
import in one direction only. Imports under `if TYPE_CHECKING:` are not counted (never run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "evalkit"

# Cycles still present, each with why it has not been cut yet. Keep this list short; a new cycle fails.
KNOWN_CYCLES: dict[frozenset[str], str] = {
    frozenset({"evalkit.store.schema", "evalkit.store.postgres"}):
        "schema.open_for_reading/open_for_writing dispatch to postgres.open_postgres, which reuses schema's "
        "identity/structure checks; cut by moving the two doors into their own module (issue 20, store facade).",
    frozenset({"evalkit.report.study_render", "evalkit.report.html", "evalkit.report.json_render",
               "evalkit.report.markdown", "evalkit.report.rich_render"}):
        "each format's renderer delegates study sections to study_render, which reuses each format's table "
        "primitives (md_table, records, rich_table, html cells); cut by moving those primitives to leaf modules.",
}


LEAF_FACTS = ("evalkit.engine.processes", "evalkit.engine.tensorboard")


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree except the bodies of `if TYPE_CHECKING:` blocks."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
            else:
                stack.append(child)
    return found


def _imported_names(node: ast.AST, module: str, is_package: bool, modules: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
            else f"{base}.{_lazy_homes(base).get(alias.name, '')}".rstrip(".") for alias in node.names]


def _lazy_homes(package: str) -> dict[str, str]:
    """name -> module of a lazy (PEP 562) facade such as evalkit.store, so the graph sees through it."""
    if package != "evalkit.store":
        return {}
    import evalkit.store

    return dict(evalkit.store._HOMES)


def _owning_module(name: str, modules: set[str]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> the evalkit modules it imports anywhere (top level or inside functions)."""
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}
    modules = {name for name, _ in files}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for (module, is_package), path in files.items():
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported_names(node, module, is_package, modules):
                target = _owning_module(name, modules) if name.startswith("evalkit") else None
                if target and target != module:
                    graph[module].add(target)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan's DFS)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _crossings(graph: dict[str, set[str]], source: str, target: str, allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(f"{a} -> {b}" for a, imports in graph.items() if _in(a, source)
                  for b in imports if _in(b, target) and not any(_in(b, ok) for ok in allowed))


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones(graph: dict[str, set[str]]) -> None:
    assert "evalkit.engine.executors.local" in graph["evalkit.engine.executors"]  # inside open_executor
    assert "evalkit.api" in graph["evalkit"]  # inside evalkit.run
    assert "evalkit.plan" not in graph["evalkit.models.series"]  # under `if TYPE_CHECKING:` only


def test_a_cycle_is_found_through_a_lazy_import() -> None:
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(toy) == [frozenset({"a", "b", "c"})]


def test_no_import_cycle_among_evalkit_modules(graph: dict[str, set[str]]) -> None:
    unknown = [sorted(group) for group in import_cycles(graph) if group not in KNOWN_CYCLES]
    assert unknown == [], f"import cycles: {unknown}"


def test_known_cycles_still_exist(graph: dict[str, set[str]]) -> None:
    """A cycle that was cut leaves the list, so the list stays true."""
    cycles = set(import_cycles(graph))
    assert [sorted(group) for group in KNOWN_CYCLES if group not in cycles] == []


@pytest.mark.parametrize(("source", "target", "allowed"), [
    ("evalkit.store", "evalkit.compare", ()),
    ("evalkit.report", "evalkit.cli", ()),
    ("evalkit.compare", "evalkit.report", ("evalkit.report.formatting",)),
    ("evalkit.plan", "evalkit.engine", ()),
    # leaves never call the trunk; the process group and the TensorBoard folder are shared facts they may read
    ("evalkit.scoring", "evalkit.engine", LEAF_FACTS),
    ("evalkit.finetune", "evalkit.engine", LEAF_FACTS),
    ("evalkit.models", "evalkit.engine", ()),
    ("evalkit.tasks", "evalkit.engine", ()),
])
def test_layers_import_one_way(graph: dict[str, set[str]], source: str, target: str,
                               allowed: tuple[str, ...]) -> None:
    assert _crossings(graph, source, target, allowed) == []


def test_the_rest_of_evalkit_uses_the_store_facade() -> None:
    """Outside evalkit.store, store names come from `evalkit.store`, never from its files."""
    reaching = []
    for path in PACKAGE.rglob("*.py"):
        module, _ = _module_name(path)
        if _in(module, "evalkit.store") or "__pycache__" in path.parts:
            continue
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                reaching += [f"{module} -> {name}" for name in names if name.startswith("evalkit.store.")]
    assert reaching == []


def test_private_names_stay_in_their_room() -> None:
    """A leading underscore means "this room only": no `from evalkit.a... import _x` from another room."""
    crossings = []
    for path in PACKAGE.rglob("*.py"):
        module, _ = _module_name(path)
        room = ".".join(module.split(".")[:2])
        if "__pycache__" in path.parts:
            continue
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("evalkit."):
                other = ".".join(node.module.split(".")[:2])
                crossings += [f"{module} <- {node.module}.{alias.name}" for alias in node.names
                              if alias.name.startswith("_") and not alias.name.startswith("__") and other != room]
    assert crossings == []


def test_only_the_cli_imports_the_cli(graph: dict[str, set[str]]) -> None:
    outside = {module: imports for module, imports in graph.items()
               if not _in(module, "evalkit.cli") and module != "evalkit.__main__"}  # `python -m evalkit` is the CLI
    assert _crossings(outside, "evalkit", "evalkit.cli") == []


def test_stats_imports_nothing_of_evalkit_but_stats(graph: dict[str, set[str]]) -> None:
    leaks = [f"{a} -> {b}" for a, imports in graph.items() if _in(a, "evalkit.stats")
             for b in imports if not _in(b, "evalkit.stats")]
    assert leaks == []
