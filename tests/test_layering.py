"""The layers import in the direction the data flows, and no module imports itself round a loop.

authenticator → ceremony → tenant (decider) → decision → expectation → report. Each contract
below lists the internal packages a layer may import; every import is read from the source
(deferred imports inside functions included, since a deferred import is how a loop hides).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("pkconf", "conformance")
# shared test material, where files are and where Entra's hosts are served
SHARED = {"pkconf.testpki", "pkconf.paths", "pkconf.hosts"}

# layer -> the internal layers it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "pkconf.paths": set(),
    "pkconf.hosts": set(),
    "pkconf.testpki": {"pkconf.paths"},
    "pkconf.authenticators": SHARED,
    "pkconf.tenant": set(),
    "pkconf.emulator": {"pkconf.tenant", *SHARED},
    "pkconf.ceremonies": {"pkconf.authenticators", "pkconf.tenant", *SHARED},
    "pkconf.inputs": {"pkconf.tenant", "pkconf.paths"},
    "pkconf.report": {"pkconf", "pkconf.ceremonies", "pkconf.tenant", "pkconf.paths"},
    # "pkconf": the suite's version, which a certification report names
    "pkconf.admin": {"pkconf", "pkconf.tenant", "pkconf.authenticators", "pkconf.ceremonies",
                     "pkconf.inputs", "pkconf.paths", "pkconf.testpki", "pkconf.report"},
    "conformance": {"pkconf.admin", "pkconf.authenticators", "pkconf.ceremonies",
                    "pkconf.emulator", "pkconf.inputs", "pkconf.report", "pkconf.tenant",
                    *SHARED},
}


def _modules() -> dict[str, Path]:
    found = {}
    for top in TOP:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every internal import, relative ones resolved, `from p import m`
    counted as importing module p.m when m is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in TOP:
                yield node.lineno, target


def _layer(module: str) -> str | None:
    """The longest contract name that `module` is or lies under."""
    owners = [layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")]
    return max(owners, key=len) if owners else None


def _within(target: str, layer: str) -> bool:
    """`pkconf` itself stands for the package's own `__init__` (its version), not everything."""
    return target == layer or (layer != "pkconf" and target.startswith(layer + "."))


def _violations(name: str, path: Path) -> list[str]:
    layer = _layer(name)
    if layer is None:
        return []
    allowed = ALLOWED[layer] | {layer}
    return [f"{path.name}:{line} imports {target}" for line, target in _imports(name, path)
            if not any(_within(target, a) for a in allowed)]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_upstream_of_it(layer: str) -> None:
    bad = [v for name, path in MODULES.items() if _layer(name) == layer
           for v in _violations(name, path)]
    assert not bad, "imports against the data flow:\n" + "\n".join(bad)


def test_the_decider_imports_nothing_else_of_the_suite() -> None:
    """pkconf/tenant is the pure rule book: it runs with nothing else of the suite."""
    outside = [f"{path.name}:{line} imports {target}"
               for name, path in MODULES.items() if _layer(name) == "pkconf.tenant"
               for line, target in _imports(name, path) if not _within(target, "pkconf.tenant")]
    assert not outside


def test_an_import_against_the_flow_is_reported(tmp_path: Path) -> None:
    """The checker sees through relative and deferred imports."""
    module = tmp_path / "engine.py"
    module.write_text("from ..emulator import store\n"
                      "def f():\n    from ..authenticators.profiles import PROFILES\n")
    assert _violations("pkconf.tenant.engine", module) == [
        "engine.py:1 imports pkconf.emulator.store",
        "engine.py:3 imports pkconf.authenticators.profiles",
    ]


def test_no_module_reaches_itself_through_its_imports() -> None:
    graph = {name: {t for _, t in _imports(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    loops = [sorted(loop) for loop in _strongly_connected(graph) if len(loop) > 1]
    assert not loops, f"import loops: {loops}"


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every set of modules that import each other round."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found
