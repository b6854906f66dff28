"""The layout keeps one direction of imports: devtools -> analytics -> storefront -> visualsearch -> catalog,
with config on top only wiring them (no app imports config), and no import circle between
modules. Read from the source with ``ast``, so an import that breaks the layers fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# each may import only those before it; analytics listens to search's signals, so nothing below imports it
LAYERS = ["catalog", "visualsearch", "storefront", "analytics", "devtools"]
PACKAGES = [*LAYERS, "operations", "config"]
SKIP = {"migrations"}


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if SKIP & set(path.relative_to(ROOT).parts):
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Project modules imported anywhere in the file (also inside functions: they still tie the
    modules together)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in MODULES)
    return found


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module.split(".")[0] == layer
        for target in targets
        if target.split(".")[0] not in allowed
    )
    assert wrong == []


def test_config_wires_the_apps_and_no_app_imports_config() -> None:
    wrong = sorted(
        f"{m} imports {t}" for m, ts in GRAPH.items() if m.split(".")[0] in LAYERS for t in ts if t.startswith("config")
    )
    assert wrong == []


def test_operations_imports_only_catalog_and_visualsearch_and_nothing_but_config_imports_it() -> None:
    allowed = {"catalog", "visualsearch", "operations"}
    wrong = sorted(
        f"{m} imports {t}"
        for m, ts in GRAPH.items()
        if m.startswith("operations")
        for t in ts
        if t.split(".")[0] not in allowed
    )
    wrong += sorted(
        f"{m} imports {t}"
        for m, ts in GRAPH.items()
        if m.split(".")[0] in LAYERS
        for t in ts
        if t.startswith("operations")
    )
    assert wrong == []


def test_there_is_no_import_circle_between_modules() -> None:
    # A module importing its own package's __init__ (or the reverse) is not a circle between ideas.
    def edges(module: str) -> set[str]:
        return {t for t in GRAPH[module] if not (t.startswith(f"{module}.") or module.startswith(f"{t}."))}

    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges(module)):
            if state.get(target) == 1:
                circles.append([*trail[trail.index(target) :], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_every_module_stays_small_and_commands_stay_thin() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text().splitlines())) > (120 if "management/commands" in str(path) else 300)
    }
    assert too_long == {}
