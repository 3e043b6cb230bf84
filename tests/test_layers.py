"""The package's import rule: numeric <- market <- strategy <- backtest, never upward.

Read from the source files (static imports, including those inside functions), so a lazy
import cannot hide a violation. The modules on top (cli, report, distributed) may import
anything; reference/ (the NumPy twin) may import the layers it mirrors; data/ imports only
market, for its ready-made MarketData.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dispersionkit as dk

PACKAGE = Path(dk.__file__).resolve().parent
LAYERS = ("numeric", "market", "strategy", "backtest")
SHARED = {"_core", "_validation", "_labels", "_persist", "_version"}
# What each part of the package may import from dispersionkit besides its own folder.
ALLOWED = {
    "numeric": SHARED,
    "market": SHARED | {"numeric"},
    "strategy": SHARED | {"numeric", "market"},
    "backtest": SHARED | {"numeric", "market", "strategy"},
    "data": SHARED | {"market"},
    "reference": SHARED | {"numeric", "strategy"},
    "_validation": set(),
    "_labels": set(),
    "_persist": {"_version"},
}


def _part(module: str) -> str:
    """The top-level part of dispersionkit a dotted module path belongs to."""
    return module.split(".")[1] if module.count(".") >= 1 else module


def _imports(path: Path, root: Path = PACKAGE.parent) -> list[tuple[int, str]]:
    """(line, absolute dispersionkit module) of every import in ``path`` (a file under ``root``)."""
    package = list(path.relative_to(root).parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("dispersionkit"):
                # `from . import x` names a submodule: the imported name is the module.
                if node.module is None:
                    found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
                else:
                    found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("dispersionkit")]
    return found


def _checked_files():
    for path in sorted(PACKAGE.rglob("*.py")):
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if part in ALLOWED:
            yield part, path


def test_layers_are_folders():
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").is_file(), layer


@pytest.mark.parametrize(("part", "path"), list(_checked_files()), ids=lambda v: str(v).split("dispersionkit/")[-1])
def test_imports_only_go_down(part, path):
    bad = []
    for line, module in _imports(path):
        target = _part(module)
        if module == "dispersionkit" or (target != part and target not in ALLOWED[part]):
            bad.append(f"{path.name}:{line} imports {module}")
    assert not bad, f"{part} may import only {sorted(ALLOWED[part])}: " + "; ".join(bad)


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: upward imports from a numeric module, relative or absolute, are seen."""
    probe = tmp_path / "dispersionkit" / "numeric" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..strategy import trade\nfrom .. import backtest\nimport dispersionkit.market\n")
    targets = [_part(module) for _, module in _imports(probe, root=tmp_path)]
    assert targets == ["strategy", "backtest", "market"]
    assert not set(targets) & ALLOWED["numeric"]


def test_import_dispersionkit_is_light():
    """`import dispersionkit` loads neither the NumPy twin nor SciPy."""
    import subprocess
    import sys

    code = "import sys, dispersionkit; print('dispersionkit.reference' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_every_public_name_imports():
    for name in dk.__all__:
        assert getattr(dk, name) is not None, name
