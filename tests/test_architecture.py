"""The shape of the package: the library apart from the chapters and the claims framework.

- The library (``ntkbook/<concept>.py``) imports neither the chapters, nor the claims framework, nor
  sympy or scipy -- it depends on jax and numpy only, and imports with sympy and scipy absent.
- No module reaches into another module's private names (``_mlp._check_beta``): what is shared is
  public in its owner module (validation in :mod:`ntkbook.validate`).
- Each library module's public API is its ``__all__``: every public top-level function and class is
  listed, and everything listed exists.
- The chapters share one vocabulary of rounding allowances (:func:`ntkbook.claims.rounding`): no chapter
  writes a rounding-level tolerance as a literal, nor keeps a local tolerance constant.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ntkbook"
# The book's tooling beside the library: the chapters, the claims framework, the notebook set-up.
NOT_LIBRARY = {"__init__.py", "__main__.py", "notebook.py"}
LIBRARY = sorted(p for p in PACKAGE.glob("*.py") if p.name not in NOT_LIBRARY)
EVERY_MODULE = sorted(PACKAGE.rglob("*.py"))


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def _imported_modules(path):
    """Absolute names of every module `path` imports, at any depth of the file (function-local too)."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1])
    out = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_imports_no_chapter_no_claims_no_sympy_no_scipy(path):
    bad = sorted(
        m
        for m in _imported_modules(path)
        if m.split(".")[0] in {"sympy", "scipy"} or m.startswith(("ntkbook.chapters", "ntkbook.claims"))
    )
    assert not bad, f"{path.name} imports {bad}"


def test_library_imports_with_sympy_and_scipy_absent():
    names = ", ".join(f"ntkbook.{p.stem}" for p in LIBRARY)
    code = f"import sys; sys.modules['sympy'] = None; sys.modules['scipy'] = None\nimport ntkbook, {names}\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _module_aliases(tree, path):
    """{local name: module} for names bound to ntkbook modules (``from . import mlp as _mlp``)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("ntkbook")):
            for a in node.names:
                target = PACKAGE / (node.module or "").replace("ntkbook.", "").replace(".", "/") / f"{a.name}.py"
                sibling = path.parent / f"{a.name}.py"
                if target.exists() or sibling.exists() or (path.parent / a.name / "__init__.py").exists():
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("ntkbook.") and a.asname:
                    aliases[a.asname] = a.name
    return aliases


@pytest.mark.parametrize("path", EVERY_MODULE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_uses_another_modules_private_names(path):
    tree = _tree(path)
    aliases = _module_aliases(tree, path)
    bad = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            bad.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("ntkbook")):
            bad += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name.startswith("_")
                and not (path.parent / f"{a.name}.py").exists()
                and not (PACKAGE / f"{a.name}.py").exists()
            ]
    assert not bad, f"{path.relative_to(ROOT)} uses private names of other modules: {bad}"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_public_api_is_all(path):
    tree = _tree(path)
    declared = None
    public = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            declared = set(ast.literal_eval(node.value))
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            public.add(node.name)
    if path.name.startswith("_") and declared is None:
        return  # a private module: used by the library only
    assert declared is not None, f"{path.name} has no __all__"
    assert public <= declared, f"{path.name}: public but not in __all__: {sorted(public - declared)}"
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    defined |= {t.target.id for t in tree.body if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)}
    defined |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert declared <= defined, f"{path.name}: __all__ lists names it does not define: {sorted(declared - defined)}"


CHAPTERS = sorted((PACKAGE / "chapters").glob("c[0-9][0-9]_*.py"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_use_the_shared_rounding_allowance(path):
    def tiny(value):
        return isinstance(value, ast.Constant) and isinstance(value.value, float) and 0 < value.value <= 1e-9

    literals = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("check_"):
            literals += [
                f"line {k.value.lineno}: {k.arg}={k.value.value!r}"
                for k in node.keywords
                if k.arg == "atol" and tiny(k.value)
            ]
        # a constant written as an expression (8 * eps) counts too
        if isinstance(node, ast.Assign) and (tiny(node.value) or isinstance(node.value, ast.BinOp)):
            if any(isinstance(t, ast.Name) and ("TOL" in t.id or "ROUNDING" in t.id) for t in node.targets):
                literals.append(f"line {node.lineno}: {ast.unparse(node)}")
    assert not literals, f"{path.name}: use ntkbook.claims.rounding(...) instead of {literals}"
