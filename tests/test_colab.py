"""Colab, proven here: a fresh virtual environment with only what Colab's runtime brings that the
notebooks rely on (torch, and Jupyter to execute them), grokkit installed the way each chapter's
install cell does it — `pip install git+<repository>@<branch>`, here from a `git+file://` URL of this
checkout's commit, no requirements.txt — then every chapter executed at the smoke profile outside any
checkout. A dependency missing from pyproject.toml fails here.

It tests the committed state (HEAD), not uncommitted edits: pip installs a git commit. Its runs go to
the session's smoke run cache (conftest.smoke_runs), which the executed book then reuses.
"""

import json
import os
import re
import subprocess
import sys
import time

import nbformat
import pytest
from conftest import ROOT

from grokkit.book.execute import publish_runs

pytestmark = pytest.mark.colab

# What the fresh environment starts with: Colab's torch (here the CPU wheel on disk) and the
# executor. Everything else the chapters import must come from grokkit's own dependencies.
PREINSTALLED = ["torch==2.13.0", "ipykernel", "papermill"]


def _run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def colab(tmp_path_factory, smoke_runs):
    import sync_links

    tmp = tmp_path_factory.mktemp("colab")
    head = _run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]).stdout.strip()
    clone = tmp / "clone"
    _run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)])
    _run(["git", "-C", str(clone), "checkout", "-q", head])
    venv = tmp / "venv"
    # nothing of this checkout leaks in (conftest puts it on PYTHONPATH, where pip would see grokkit)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GROKKIT_REPO", "MPLBACKEND")}
    # the session's smoke run cache (conftest.smoke_runs): what this test checks is the install
    env.update(GROKKIT_RUNS=str(smoke_runs), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    t = time.perf_counter()
    _run([sys.executable, "-m", "venv", str(venv)], env=env)
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "install", "-q", *PREINSTALLED], env=env)
    # the chapter's own install cell, its repository URL pointed at this commit
    nb = nbformat.read(clone / "notebooks" / "01_grokking.ipynb", as_version=4)
    repo = sync_links.repository(clone)
    cell = nb.cells[1].source
    assert repo.install() in cell
    line = re.search(r"%pip install (.*)", cell).group(1)
    line = line.replace(f"git+{repo.url}@{repo.branch}", f"git+file://{clone}@{head}")
    _run([*pip, "install", *line.split()], env=env)
    install_s = time.perf_counter() - t
    work = tmp / "work"  # not a checkout: chapters must not need the repository
    work.mkdir()
    where = _run([py, "-c", "import grokkit; print(grokkit.__file__)"], env=env, cwd=work).stdout
    assert str(venv) in where, where
    return {"py": py, "clone": clone, "env": env, "work": work, "install_s": install_s, "times": {}}


NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_runs_from_the_colab_install(colab, name):
    out, metrics = colab["work"] / name, colab["work"] / f"{name}.json"
    t = time.perf_counter()
    cmd = [colab["py"], "-m", "papermill", str(colab["clone"] / "notebooks" / name), str(out)]
    _run(
        [*cmd, "-p", "profile", "smoke", "-p", "metrics_path", str(metrics), "--cwd", str(colab["work"])],
        env=colab["env"],
        cwd=colab["work"],
    )
    colab["times"][name] = round(time.perf_counter() - t, 1)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4
    assert json.loads(metrics.read_text())
    print(f"{name}: {colab['times'][name]} s (install {colab['install_s']:.0f} s)")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_loads_its_published_runs_in_a_fresh_cache(colab, name, tmp_path):
    """The chapter's runs (the keys its first execution above looked up) published as the build does (each
    trimmed to the series the chapter read outside its memoized measurements, whose values are published
    beside them), then the chapter executed again from the Colab install with an empty run cache: every run
    imports from the bundle (none trains, none is made whole) and the chapter records the same numbers."""
    first = json.loads((colab["work"] / f"{name}.json").read_text())
    stem, site = name.removesuffix(".ipynb"), tmp_path / "site"
    reads, used = {stem: first["run_tensors"]}, {stem: first["measure_keys"]}
    root = colab["env"]["GROKKIT_RUNS"]
    entry = publish_runs(site / "runs", "smoke", {stem: first["run_keys"]}, root, 500, reads, used)
    assert not entry[f"{stem}-smoke"]["dropped"]
    assert bool(first["measure_keys"]) == bool(entry[f"{stem}-smoke"].get("measures"))
    env = colab["env"] | {"GROKKIT_RUNS": str(tmp_path / "fresh"), "GROKKIT_SITE": str(site)}
    out, metrics = tmp_path / name, tmp_path / f"{name}.json"
    cmd = [colab["py"], "-m", "papermill", str(colab["clone"] / "notebooks" / name), str(out)]
    _run([*cmd, "-p", "profile", "smoke", "-p", "metrics_path", str(metrics)], env=env, cwd=colab["work"])
    text = "".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    assert f"published run(s) of {stem}-smoke imported" in text and "training the run here in full" not in text
    again = json.loads(metrics.read_text())  # the same keys, all in the bundle: none was trained
    assert set(again["run_keys"]) <= {p.name for p in (tmp_path / "fresh").iterdir()}
    took = {"trained": first.pop("elapsed_s"), "published": again.pop("elapsed_s")}
    assert again == first, "the chapter's numbers from the published runs are the trained ones"
    print(f"{name}: elapsed {took['trained']} s trained, {took['published']} s from its published runs")
