"""ruff is clean: pyflakes, pycodestyle errors, isort and bugbear (rules in pyproject.toml)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_function_in_the_package_is_longer_than_80_lines():
    """A function should read in one sitting (issue 14): list any that grew past 80 lines."""
    import ast
    long = []
    for path in sorted((ROOT / "fedlearn_edu").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n_lines = node.end_lineno - node.lineno + 1
                if n_lines > 80:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n_lines} lines)")
    assert not long, "\n".join(long)


def test_no_long_positional_argument_lists():
    """Nothing depends on the order of a long argument list (issue 14): a call that passes more
    than 5 positional arguments to a function or class of the package must name them."""
    import ast
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in (ROOT / "fedlearn_edu").rglob("*.py")}
    defined, variadic = set(), set()          # variadic functions such as rng.combine(*parts) may take many
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                (variadic if node.args.vararg is not None else defined).add(node.name)
            elif isinstance(node, ast.ClassDef):
                defined.add(node.name)
    defined -= variadic
    long_calls = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and len(node.args) > 5:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in defined:
                    long_calls.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}: {len(node.args)} positional")
    assert not long_calls, "\n".join(long_calls)
