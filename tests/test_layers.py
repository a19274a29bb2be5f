"""The layers declared in pyproject.toml hold: no stage imports a stage above it, no import cycle,
and an import placed inside a function says why on its line."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "automation"


def _lint_imports() -> str:
    found = shutil.which("lint-imports") or shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert found, "lint-imports is missing: install the test extra (pip install -e '.[test]')"
    return found


def test_lint_imports_keeps_the_layers_contract():
    result = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout, result.stdout


def test_the_package_has_no_import_cycle():
    graph = grimp.build_graph("automation", cache_dir=None)
    cycles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def test_imports_inside_functions_state_their_reason():
    silent = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        top = {id(node) for node in tree.body}
        lines = source.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top and "#" not in lines[node.lineno - 1]:
                silent.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert silent == []


def _strongly_connected(graph) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (the graph is small, but recursion limits are not worth the risk)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


BELOW_THE_RUNTIME = ("policy", "record", "forms", "problems", "settings.py", "clock.py", "fsutil.py", "errors.py",
                     "printing.py")


def test_libraries_below_the_runtime_take_the_pieces_they_use_never_rt():
    """One style of handing a run its world: the pipeline and the stage entry points it calls take ``rt``;
    the libraries below runtime.py take the store, settings, policy or clock they use, by name."""
    taking_rt = []
    for name in BELOW_THE_RUNTIME:
        for path in sorted((PACKAGE / name).rglob("*.py")) if (PACKAGE / name).is_dir() else [PACKAGE / name]:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    params = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
                    if "rt" in params or "runtime" in params:
                        taking_rt.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert taking_rt == []
