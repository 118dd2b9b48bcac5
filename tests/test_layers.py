"""The package layers hold: a small AST check of every import in the project's packages.

storage imports only the base (driftscope.errors / driftscope.config); collectors and monitors do
not import each other; nothing imports dashboard; dashboard never imports sqlalchemy; only the
app layer (driftscope.cli, .scheduler, .pipeline, .demo) may import collectors and monitors.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "collectors", "monitors", "dashboard", "driftscope")
BASE = ("driftscope.errors", "driftscope.config", "driftscope.tabular")
APP_LAYER = (
    "driftscope.cli", "driftscope.scheduler", "driftscope.pipeline", "driftscope.demo", "driftscope.apply",
    "driftscope.__main__",
)

ALLOWED: dict[str, tuple[str, ...]] = {
    "storage": ("storage", *BASE),
    "collectors": ("collectors", "storage", *BASE),
    "monitors": ("monitors", "storage", *BASE),
    "dashboard": ("dashboard", "storage", *BASE),
    "driftscope.base": BASE,
}
FORBIDDEN_THIRD_PARTY = {"dashboard": ("sqlalchemy",)}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _layer(module: str) -> str:
    top = module.split(".")[0]
    if top != "driftscope":
        return top
    return "driftscope.app" if module.startswith(APP_LAYER) else "driftscope.base"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_respect_layers(path: Path) -> None:
    layer = _layer(_module_name(path))
    violations = []
    for line, imported in _imports(path):
        top = imported.split(".")[0]
        if top in FORBIDDEN_THIRD_PARTY.get(layer, ()):
            violations.append(f"line {line}: {layer} must not import {imported}")
        if top not in PACKAGES:
            continue
        if layer == "driftscope.app":
            if top == "dashboard":
                violations.append(f"line {line}: nothing imports dashboard ({imported})")
            continue
        if not imported.startswith(ALLOWED[layer]):
            violations.append(f"line {line}: {layer} must not import {imported}")
    assert violations == [], f"{path.relative_to(ROOT)}: " + "; ".join(violations)


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import sqlalchemy\nfrom collectors.base import Source\n")
    assert [m for _, m in _imports(sample)] == ["sqlalchemy", "collectors.base"]
    assert not "collectors.base".startswith(ALLOWED["monitors"])
