"""Structural test: layers/ stays pure (STYLE.md habit 1).

It imports no Dash, Flask or caching, and reads or writes no files itself: opening files
is geodata's job, so the map, the wall screen and the exports all compute the same way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYERS = Path(__file__).resolve().parents[2] / "layers"
FORBIDDEN_MODULES = (
    "dash",
    "dash_leaflet",
    "dash_extensions",
    "flask",
    "flask_caching",
    "werkzeug",
)
FILE_CALLS = {
    "open",
    "read_parquet",
    "to_parquet",
    "read_csv",
    "to_csv",
    "read_file",
    "to_file",
    "read_excel",
    "write_text",
    "write_bytes",
    "read_text",
    "read_bytes",
}


def _modules() -> list[Path]:
    return sorted(LAYERS.rglob("*.py"))


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _called(tree: ast.AST) -> set[str]:
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                called.add(func.id)
            elif isinstance(func, ast.Attribute):
                called.add(func.attr)
    return called


def test_layers_package_has_modules() -> None:
    assert (LAYERS / "__init__.py").exists()


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_layer_module_imports_no_web_framework(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = _imported(tree) & set(FORBIDDEN_MODULES)
    assert not bad, f"{path.name} imports {sorted(bad)}; layers must stay free of Dash/Flask"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_layer_module_opens_no_files(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = _called(tree) & FILE_CALLS
    assert not bad, f"{path.name} calls {sorted(bad)}; reading and writing files is geodata's job"


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself must be able to fail."""
    tree = ast.parse(
        "import dash\nfrom flask import Flask\nimport pandas as pd\npd.read_csv('x')\n"
    )
    assert _imported(tree) & set(FORBIDDEN_MODULES) == {"dash", "flask"}
    assert _called(tree) & FILE_CALLS == {"read_csv"}
