"""The BFF sits below the widgets: only the app factory imports them, so bff/redemption.py serves both doors."""

import ast
from pathlib import Path

import bff

BFF = Path(bff.__file__).parent


def imported_modules(source):
    """Every module a Python source imports, at any depth (function-level imports included)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_no_bff_module_but_the_app_factory_imports_the_widgets():
    offenders = {
        str(path.relative_to(BFF)): module
        for path in BFF.rglob("*.py") if path.name != "__init__.py" or path.parent != BFF
        for module in imported_modules(path.read_text(encoding="utf-8"))
        if module == "widgets" or module.startswith("widgets.")
    }
    assert offenders == {}
    assert "widgets" in set(imported_modules((BFF / "__init__.py").read_text(encoding="utf-8")))
