"""The package's layering (CONTRIBUTING.md): what `import grokkit` loads, no cycles,
no function-local grokkit imports, and repository-bound code that fails clearly outside a checkout."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
import tomllib

import grokkit
from grokkit.store.repo import NotACheckout, repo_root

PKG = Path(grokkit.__file__).resolve().parent
SOURCES = sorted(PKG.rglob("*.py"))


def test_import_grokkit_loads_the_core_only():
    code = (
        "import grokkit, sys; print(sorted({'matplotlib', 'IPython', 'ipywidgets', 'nbformat', 'papermill',"
        " 'dask', 'distributed', 'submitit'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), on direct imports."""
    mods = sorted(graph.modules)
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in mods:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = grimp.build_graph("grokkit")  # every import statement, function-local ones included
    assert _cycles(graph) == []


def test_no_function_local_import_of_a_grokkit_module():
    found = []
    for path in SOURCES:
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    names = (
                        [node.module or ""]
                        if isinstance(node, ast.ImportFrom)
                        else [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else []
                    )
                    if any(n == "grokkit" or n.startswith("grokkit.") for n in names):
                        found.append(f"{path.relative_to(PKG)}:{node.lineno}")
    assert found == []


def test_repository_bound_code_fails_clearly_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("GROKKIT_REPO", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotACheckout, match="no Grokking Book checkout.*GROKKIT_REPO"):
        repo_root()
    from grokkit.book import results_dir

    with pytest.raises(NotACheckout):
        results_dir()
    monkeypatch.setenv("GROKKIT_REPO", str(Path(__file__).resolve().parents[1]))
    assert (repo_root() / "_toc.yml").exists()


ROOMS = ("hooks", "training", "store", "engines")  # the core's packages: each module is listed by name


def test_both_maps_list_every_core_module():
    """README's layout table and CONTRIBUTING's tree name every top-level module of grokkit/ and every module
    of the core's rooms (a new one is added to both); the maps name no module that does not exist."""
    mods = sorted(p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_"))
    mods += sorted(p.stem for room in ROOMS for p in (PKG / room).glob("*.py") if not p.stem.startswith("_"))
    readme, contrib = (PKG.parent / "README.md").read_text(), (PKG.parent / "CONTRIBUTING.md").read_text()
    tree = contrib[contrib.index("```text\ngrokkit/") :]
    tree = tree[: tree.index("```", 8)]
    listed = {
        n.strip().removesuffix(".py").removesuffix("/")
        for x in re.findall(r"[├└]── ([\w, ./]+?)(?:\s{2,}|$)", tree, re.M)
        for n in x.split(",")
    }
    assert [m for m in mods if f"`{m}.py`" not in readme] == [], "README's layout table"
    assert [m for m in mods if m not in listed] == [], "CONTRIBUTING's package tree"
    named = set(re.findall(r"`(\w+)\.py`", readme[readme.index("| **core**") : readme.index("| **presentation**")]))
    assert named - set(mods) == set(), "README's table names a module that does not exist"


NOT_CORE = {"plots", "widgets", "exercises", "book", "repro", "course", "papers", "cli", "cli_args", "__main__"}


def test_the_core_contract_covers_every_core_module():
    """Every module outside the upper floors is core, and a new one is covered without editing a list by
    hand: none imports an upper floor (directly or through another), and pyproject's contract names them all."""
    graph = grimp.build_graph("grokkit")
    core = sorted(
        m for m in graph.modules if m.count(".") >= 1 and m.split(".")[1] not in NOT_CORE and m != "grokkit.__init__"
    )
    upper = [f"grokkit.{n}" for n in NOT_CORE if f"grokkit.{n}" in graph.modules]
    leaks = [(m, u) for m in core for u in upper if graph.chain_exists(importer=m, imported=u, as_packages=True)]
    assert leaks == []
    listed = set(
        tomllib.loads((PKG.parent / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][1][
            "source_modules"
        ]
    )
    assert {m for m in core if m.count(".") == 1} - listed == set(), "add it to pyproject's core contract"
