"""The package's layers (../shared/DESIGN.md): what each part may import from the rest of seerbridge, checked on the
source, so a shortcut across layers fails here rather than in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seerbridge"
LEAVES = {"config", "errors", "logs", "redact", "clock"}  # importable from anywhere

# The command bodies (commands/) and what they print (render/) sit at the top with cli: they may import anything, and
# no lower layer imports them.
TOP = {"cli", "commands", "render"}

# part → the parts of seerbridge it must not import
FORBIDDEN = {
    "domain": {"selection", "services", "store", "pipeline", "runtime", "web", "sandbox", "library"} | TOP,
    "selection": {"services", "store", "pipeline", "runtime", "web", "sandbox", "library"} | TOP,
    "store": {"services", "pipeline", "runtime", "web", "sandbox", "library"} | TOP,
    "services": {"store", "pipeline", "runtime", "web", "sandbox", "library"} | TOP,
    "sandbox": {"pipeline", "runtime", "store", "web", "library"} | TOP,
    "library": {"pipeline", "runtime", "web", "sandbox"} | TOP,
    "arr": {"runtime", "web", "sandbox"} | TOP,
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seerbridge"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:  # `from seerbridge import clock`
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("seerbridge."))
    return found - LEAVES


def test_the_top_parts_exist() -> None:
    """A renamed package would make its rule above check nothing."""
    assert all((PACKAGE / part).is_dir() for part in TOP - {"cli"}) and (PACKAGE / "cli.py").is_file()


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_imports_only_what_its_layer_allows(part: str) -> None:
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & FORBIDDEN[part])
        for path in (PACKAGE / part).rglob("*.py")
        if _imports(path) & FORBIDDEN[part]
    }
    assert not wrong, f"{part}/ imports what its layer must not: {wrong}"
