"""The package's layering (docs/design.md, "Layers of the package").

``lint-imports`` (the README's test command) checks the order itself; these
tests keep the contract honest: it names every top-level module, the deferred
imports that the order tolerates stay few and say which cycle they break, and
a low module imported first in a fresh interpreter still imports.
"""

import ast
import pathlib
import pkgutil
import re
import subprocess
import sys

import pytest

import kerasish

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = REPO / "kerasish"
MAX_DEFERRED = 20



def _contracts():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_package"] == "kerasish"
    return {c["id"]: c for c in config["contracts"]}


def _deferred_in(text):
    """``(line, module)`` of each kerasish import made inside a function
    (imports in class bodies, or under ``if`` / ``try`` at module level, are
    module-level)."""
    found = []

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                walk(child, True)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                if isinstance(child, ast.ImportFrom):
                    module = "." * child.level + (child.module or "")
                else:
                    module = child.names[0].name
                if in_function and module.startswith(("kerasish", ".")):
                    found.append((child.lineno, module))
            else:
                walk(child, in_function)

    walk(ast.parse(text), False)
    return found


def deferred_imports():
    """``(path, line, module, source lines)`` for every deferred kerasish import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        found.extend((str(path.relative_to(REPO)), line, module, lines) for line, module in _deferred_in(text))
    return found


def _explained(lines, lineno) -> bool:
    """A ``# deferred:`` comment on the import's line or in the comment block right above it."""
    if "# deferred:" in lines[lineno - 1]:
        return True
    i = lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        if lines[i].strip().startswith("# deferred:"):
            return True
        i -= 1
    return False


def test_layers_contract_names_every_top_level_module():
    layers = _contracts()["layers"]
    assert layers["type"] == "layers" and layers["containers"] == ["kerasish"] and layers["exhaustive"] is True
    named = [name.strip() for layer in layers["layers"] for name in re.split(r"[|:]", layer)]
    assert len(named) == len(set(named)), "a module is listed twice"
    actual = {m.name for m in pkgutil.iter_modules(kerasish.__path__)}
    assert actual - set(named) == set(), "new top-level modules must take a place in the layers contract"
    assert set(named) - actual == set(), "the contract names modules that no longer exist"


def test_leaves_contract_covers_the_registry_file_io_tree_backend_compat_and_version():
    leaves = _contracts()["leaves"]
    assert leaves["type"] == "forbidden" and leaves["as_packages"] is False
    assert set(leaves["forbidden_modules"]) == {"kerasish", "kerasish.**"}
    assert set(leaves["source_modules"]) == {
        "kerasish.saving.object_registration",
        "kerasish.saving.serialization_lib",
        "kerasish.saving.file_io",
        "kerasish.tree",
        "kerasish.backend_compat",
        "kerasish.version",
    }


def test_deferred_imports_are_few_and_each_names_its_cycle():
    found = deferred_imports()
    where = "\n".join(f"{path}:{line} {module}" for path, line, module, _ in found)
    assert len(found) <= MAX_DEFERRED, f"{len(found)} deferred kerasish imports (at most {MAX_DEFERRED}):\n{where}"
    unexplained = [
        f"{path}:{line} {module}"
        for path, line, module, lines in found
        if not _explained(lines, line)
    ]
    assert not unexplained, "deferred imports without a `# deferred: <which cycle>` comment:\n" + "\n".join(unexplained)


def test_the_deferred_import_walk_sees_what_it_counts():
    text = (
        "import kerasish\n"
        "from . import tree\n"
        "class A:\n"
        "    from kerasish import ops\n"
        "    def f(self):\n"
        "        import kerasish.layers\n"
        "def g():\n"
        "    import torch\n"
        "    # deferred: some cycle,\n"
        "    # said over two lines\n"
        "    from .layers import Dense\n"
        "    from kerasish import models  # deferred: another cycle\n"
    )
    found = _deferred_in(text)
    assert found == [(6, "kerasish.layers"), (11, ".layers"), (12, "kerasish")]
    lines = text.splitlines()
    assert [_explained(lines, line) for line, _ in found] == [False, True, True]


LOW_MODULES = [
    "kerasish.initializers",
    "kerasish.engine.layer",
    "kerasish.saving.serialization_lib",
    "kerasish.layers",
    "kerasish.models",
    "kerasish.config",
]


@pytest.mark.slow
@pytest.mark.parametrize("module", LOW_MODULES)
def test_a_low_module_imported_first_in_a_fresh_interpreter(module):
    code = f"import {module}, kerasish; m = kerasish.Sequential([kerasish.Input((2,)), kerasish.layers.Dense(1)]); print(m.count_params())"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"
