"""docs/architecture.md stays true: every module is described there, imports only go down its list of layers, and
each third-party library is imported where the document says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "convcalc"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")

# the layers of docs/architecture.md, top first; a module may import its own layer and any layer below it
LAYERS = [
    {"__main__", "cli"},
    {"run"},
    {"io", "report"},
    {"check"},
    {"frontends", "specfile", "conventions"},
    {"graph"},
    {"ops"},
    {"core"},
    {"errors", "zoo"},
]
FACE = "__init__"  # convcalc/__init__.py: the public API's face, re-exporting from every layer (and __version__)
THIRD_PARTY = {  # library -> where it may be imported (a module path prefix)
    "typer": ("cli/",),
    "rich": ("report/",),
    "pydantic": ("specfile/schema", "specfile/json_schema.py"),  # schema.py, schema_types.py, schema_ops.py, ...
    "yaml": ("specfile/yamlnodes.py", "check/discovery.py"),
    "torch": ("io/", "frontends/torch_"),
    "torchvision": ("frontends/torch_",),
    "timm": ("frontends/torch_",),
    "onnx": ("frontends/onnx_",),
}


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def layer_of(part: str) -> int:
    return next(index for index, names in enumerate(LAYERS) if part in names)


def top_part(module: str) -> str:
    """``convcalc.report.numbers`` -> ``report``; ``convcalc.errors`` -> ``errors``."""
    return module.split(".")[1] if "." in module else "__init__"


def is_submodule(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            if node.module == "convcalc":
                found += [f"convcalc.{alias.name}" for alias in node.names if is_submodule(alias.name)]
    return found


def test_every_module_is_described():
    for path in modules():
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name in ("__init__.py", "__main__.py", "_coreschemas.py"):
            continue
        assert re.search(rf"`{re.escape(path.name)}`", DOC), f"docs/architecture.md does not mention {relative}"


def test_imports_only_go_down():
    for path in modules():
        relative = path.relative_to(PACKAGE)
        if relative.as_posix() == "__init__.py":
            continue
        own = layer_of(relative.parts[0].removesuffix(".py"))
        for module in imports(path):
            if module.startswith("convcalc.examples") or not module.startswith("convcalc") or top_part(module) == FACE:
                continue
            target = layer_of(top_part(module))
            assert target >= own, f"{relative} imports {module}, a layer above it"


def test_third_party_libraries_are_imported_in_their_place():
    for path in modules():
        relative = path.relative_to(PACKAGE).as_posix()
        for module in imports(path):
            library = module.split(".")[0]
            if library in THIRD_PARTY:
                assert relative.startswith(THIRD_PARTY[library]), f"{relative} imports {module}"


def test_the_core_needs_nothing_but_the_standard_library():
    for path in (PACKAGE / "core").rglob("*.py"):
        for module in imports(path):
            assert module.split(".")[0] in {"convcalc", "__future__", "collections", "dataclasses", "fractions",
                                            "math", "typing", "re", "functools", "itertools", "enum"}, (path, module)  # fmt: skip
