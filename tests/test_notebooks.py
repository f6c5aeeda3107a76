import ast

"""Every chapter executed at the smoke profile (papermill), the site built from those notebooks,
and the site opened in a real browser. One execution, shared by the tests below."""

import json
import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def book(tmp_path_factory, monkeypatch_session, smoke_runs):
    """Execute all chapters (smoke) and build the site, in a temporary directory and the session's smoke
    run cache."""
    import build_book

    out = tmp_path_factory.mktemp("book")
    monkeypatch_session.setenv("GROKKIT_RUNS", str(smoke_runs))
    code = build_book.main(["--profile", "smoke", "--out", str(out), "--no-record"])
    return {"out": out, "code": code}


def _metrics(book, stem):
    return json.loads((book["out"] / "metrics" / f"{stem}.json").read_text())


def _executed(book, stem):
    return nbformat.read(book["out"] / "stage" / "notebooks" / f"{stem}.ipynb", as_version=4)


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebooks_follow_the_chapter_contract(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") for c in code), "notebooks are stored without outputs"
    assert "google.colab" in code[0].source and "%pip install" in code[0].source  # Colab-only install
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "profile" in params[0].source and "metrics_path" in params[0].source
    assert 'profile = "auto"' in params[0].source and "drive = False" in params[0].source
    assert "retrain = False" in params[0].source  # True: train instead of loading the published runs
    assert f'gk.book.start("{nb_path.stem}", profile, drive=drive, retrain=retrain)' in code[2].source
    for src in (c.source for c in code):  # notebooks call grokkit; they define no models or loops
        assert not re.search(r"class \w+\(.*nn\.Module|\.backward\(\)|optim\.\w+\(", src), src[:80]
    for c in code:  # prose cells fold on Colab (# @title) and hide their source on the site
        body = ast.parse(re.sub(r"(?m)^(\s*)[%!].*$", r"\1pass", c.source)).body  # magics: placeholders
        prose = bool(body) and all(isinstance(n, ast.Expr) and ast.unparse(n).startswith("say(") for n in body)
        if prose or c.source.startswith("# @title "):
            assert prose and c.source.startswith("# @title ") and "hide-input" in c.metadata.get("tags", [])
        assert max(map(len, c.source.splitlines() or [""])) <= 100, "code lines wrap at 100 characters"
    stubs = [c for c in code if "exercise" in c.metadata.get("tags", [])]
    sols = [c for c in code if "solution" in c.metadata.get("tags", [])]
    checks = [c for c in code if "checker" in c.metadata.get("tags", [])]
    assert len(stubs) >= 3 and len(stubs) == len(sols) == len(checks)
    for stub, sol in zip(stubs, sols):
        name = re.search(r"def (\w+)\(", stub.source).group(1)
        assert "raise NotImplementedError" in stub.source and f"def {name}(" in sol.source
        assert "hide-input" in sol.metadata["tags"]


def test_badges_and_install_cells_follow_config():
    """The repository URL is set once, in _config.yml; badges and install cells are generated from it."""
    import sync_links

    repo = sync_links.repository(ROOT)
    assert sync_links.problems(ROOT) == []
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    assert repo.colab(NOTEBOOKS[0].name) in nb.cells[0].source and repo.install() in nb.cells[1].source


def test_link_check_catches_a_fork_that_forgot_to_regenerate(tmp_path):
    import shutil

    import sync_links

    for name in ("notebooks", "book"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "README.md", tmp_path)
    (tmp_path / "grokkit" / "store").mkdir(parents=True)
    shutil.copy(ROOT / "grokkit" / "store" / "published.py", tmp_path / "grokkit" / "store")
    cfg = (
        (ROOT / "_config.yml")
        .read_text()
        .replace("url: https://github.com/grokkit-book/grokkit", "url: https://github.com/me/fork")
    )
    (tmp_path / "_config.yml").write_text(cfg)
    found = sync_links.problems(tmp_path)
    assert sum("lacks the badge" in f for f in found) == len(NOTEBOOKS)
    assert any(f.startswith("grokkit/store/published.py: SITE_URL") for f in found)
    assert "grokkit/store/published.py" in sync_links.write(tmp_path) and not any(
        f.endswith(".ipynb") or "ipynb:" in f or "published.py" in f for f in sync_links.problems(tmp_path)
    )
    assert 'SITE_URL = "https://me.github.io/fork/"' in (tmp_path / "grokkit" / "store" / "published.py").read_text()


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_executes_with_figures_and_sliders(book, nb_path):
    nb = _executed(book, nb_path.stem)
    mimes = [k for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) for k in o.get("data", {})]
    assert mimes.count("image/png") >= 4
    html = [
        o["data"]["text/html"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert any("gk-slider" in h or "gk-phase" in h for h in html), "a slider (Explorer or PhaseExplorer)"
    if nb_path.stem == "01_grokking":
        assert any("gk-scrubber" in h for h in html) and any("gk-phase" in h for h in html)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


def test_chapter1_records_its_measurements(book):
    m = _metrics(book, "01_grokking")
    assert isinstance(m["t_grok_add_seed42"], int) and 0 < m["t_memorise_add_seed42"] < m["t_grok_add_seed42"]
    assert m["control_wd0_best_test_acc"] < 0.5  # no weight decay: no grokking
    assert set(m["grok_steps_by_op"]) == {"add", "sub", "mul", "x2_y2", "x2_xy_y2", "x3_xy"}
    assert len(m["grid_grok_steps"]) == 2 and len(m["grid_grok_steps"][0]) == 2
    assert set(m["grok_boundary"]) == {"0.5", "0.7"}  # train fractions at smoke
    assert 1 <= len(m["key_frequencies"]) <= 15
    # the progress measures: both leave their plateau level before test accuracy reaches 90%
    d = m["progress_departures"]
    assert all(isinstance(d[k], int) for k in ("restricted", "excluded", "t90"))
    assert (
        m["t_memorise_add_seed42"] < d["restricted"] < d["t90"]
        and m["t_memorise_add_seed42"] < d["excluded"] < d["t90"]
    )
    assert all(1 <= k <= 15 for k in m["progress_key_freqs"])  # p = 31 at smoke
    share_key, share_all = m["logit_share_key_vs_all"]
    assert 0 < share_key <= share_all <= 1
    assert set(m["progress_final"]) == {"restricted_loss", "excluded_loss", "train_loss"}
    assert m["elapsed_s"] < 300


def test_chapter2_records_its_measurements(book):
    m = _metrics(book, "02_execution_subspace")
    assert set(m["pc1_null_z_layer0_WQ"]) == {"add", "sub", "mul", "x2_y2", "x2_xy_y2", "x3_xy"}
    lo, hi = m["defect_at_step0"]
    assert 0 < lo <= hi < 100
    assert 0.99 < m["rho_min"] <= 1.0  # dimension alone puts the commutator outside a 16-dim subspace
    assert m["exec_random_pca_whole_run"] > 0
    assert set(m["suppression_pca"]) == {"0.5", "1.0"} and set(m["kicks"]) == {"commutator", "random"}
    assert m["sign_test"][0] <= m["sign_test"][1] and m["sign_test_authors"][0] <= m["sign_test_authors"][1]
    # both formulas from the inline tracker: at step 0 the authors' float32 value is round-off-inflated
    assert (
        m["defect_init_exact"] == m["defect_at_step0"] and m["defect_init_authors"][0] > 2 * m["defect_init_exact"][1]
    )
    assert m["defect_table_add"][0]["step"] == 0 and {"exact", "authors", "grad_norm", "roundoff"} <= set(
        m["defect_table_add"][0]
    )
    assert 0.99 < m["rho_min_authors"] <= 1.0 and set(m["exec_random_svd_memorisation"]) == {
        "add",
        "sub",
        "mul",
        "x2_y2",
    }
    assert set(m["exec_random_svd_memorisation_se"]) == set(m["exec_random_svd_memorisation"])  # the spread, per op
    auc = m["defect_auc"]
    assert auc["n_pos"] + auc["n_neg"] == 7 and {"defect (exact)", "weight norm ‖θ‖", "train loss"} <= set(auc)
    assert all(len(v) == len(auc["steps"]) for k, v in auc.items() if k not in ("steps", "n_pos", "n_neg"))
    assert set(m["defect_runs"]) and set(m["pc1_layer0_by_run"]) == {"grokking", "nongrokking"}


def test_chapter3_records_its_measurements(book):
    m = _metrics(book, "03_multitask")
    assert list(m["tri_grok_steps"]) == ["42"] and set(m["tri_grok_steps"]["42"]) == {"add", "mul", "x2_y2"}
    assert set(m["curvature_depth"]) == {"1.0", "0.5"}
    assert all(d < 1e3 for v in m["curvature_depth"].values() for d in v)
    assert set(m["deletion"]) == {"0.0", "0.1"} and 0 <= m["head_cos_max"] <= 1


def test_chapter4_records_its_measurements(book):
    m = _metrics(book, "04_holographic")
    variants = {"uncentred", "centred_with_init", "centred_without_init"}
    for name, ops in (("compression_dual", ["add", "mul"]), ("compression_tri", ["add", "mul", "x2_y2"])):
        c = m[name]
        assert c["ops"] == ops and all(0 <= a <= 1 for a in c["final_acc"]) and set(c["k_star"]) == variants
        assert set(c["pca_acc"]) == variants and all(
            len(accs) == len(ops) and all(0 <= a <= 1 for a in accs)
            for v in c["pca_acc"].values()
            for accs in v.values()
        )
        energy = [c["svd_energy"][r] for r in sorted(c["svd_energy"], key=int)]  # cumulative: rises to at most 1
        assert energy == sorted(energy) and 0 < energy[0] and energy[-1] <= 1 + 1e-9
    for counts in m["pcs_for_variance"].values():  # more variance needs at least as many components
        assert counts["0.9"] <= counts["0.95"] <= counts["0.99"]
    assert set(m["pcs_for_variance"]) == variants and all(r > 0 for r in m["stable_ranks"].values())


def test_chapter5_records_its_measurements(book):
    m = _metrics(book, "05_low_rank_decay")
    assert abs(m["grad_weight_cosine"]) < 1e-4 and m["scale_invariance_max_change"] < 1e-4  # scale invariance
    assert set(m["fair_verdict"]) == {"add", "sub"} and set(m["fair_seeds"]) == {
        "add l2",
        "add lrd",
        "sub l2",
        "sub lrd",
    }
    for v in m["fair_seeds"].values():  # one accuracy and one step count per seed, at the chosen strength
        assert len(v["acc"]) == len(v["steps_to_99"]) >= 1 and all(0 <= a <= 1 for a in v["acc"])
    assert m["phase_model"] and set(m["boundary"]) == {"l2 ordinary", "l2 leak-free", "lrd ordinary", "lrd leak-free"}


def test_site_builds_without_warnings(book):
    assert book["code"] == 0
    assert (book["out"] / "html" / "notebooks" / "01_grokking.html").exists()


def test_site_in_a_real_browser(book, tmp_path):
    from browser_check import check_site

    report = check_site(book["out"] / "html", tmp_path / "shots")
    assert report["problems"] == []
    for nb in NOTEBOOKS:
        page = report[f"notebooks/{nb.stem}.html"]
        assert page["title"] and page["images"] >= 4 and page["sliders"] + page["phases"] >= 1 and page["colab"]
    ch1 = report["notebooks/01_grokking.html"]
    assert ch1["scrubbers"] == 1 and ch1["phases"] == 1 and ch1["trainers"] == 1  # each moved or trained
    assert report["book/intro.html"]["title"] == "The Grokking Book"
    assert report["internal_links"] > 10


# numbers the papers' table holds that are also settings or thresholds anyone may type (seeds, p, the
# weight-decay grid, budgets, accuracy thresholds, small counts)
_SETTINGS = {42, 137, 2024, 97, 113, 128, 0.5, 1.0, 0.9, 0.98, 0.99, 0.95, 0.1, 0.2, 0.3, 0.25, 0.75, 0.8, 0.05}


def _paper_numbers():
    """Every distinctive number of grokkit.papers (three significant digits or more, not a setting)."""
    from grokkit.papers import NUMBERS

    out = set()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and v not in _SETTINGS:
            digits = len(f"{abs(v):g}".replace(".", "").lstrip("0"))
            round_ = float(v).is_integer() and (v % 1000 == 0 or (v < 1000 and v % 100 == 0))  # budgets, cadences
            if (digits >= 3 or (isinstance(v, int) and v >= 100)) and not round_:
                out.add(v)

    for entry in NUMBERS.values():
        walk({k: v for k, v in entry.items() if k not in ("source", "margins")})
    return out


def _spellings(v):
    s = {f"{v:g}", f"{abs(v):g}"}
    if float(v).is_integer():
        n = int(abs(v))
        s |= {f"{n:,}", str(n)} | ({f"{n / 1000:.1f}k", f"{n / 1000:g}k"} if n >= 1000 else set())
    return s


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_paper_number_is_typed_in_a_chapter(nb_path):
    """A chapter quotes a paper only through grokkit.papers: none of its distinctive numbers is typed in a
    cell (code or prose), in any of the ways the papers write them (3300, 3,300, 3.3k)."""
    nb = nbformat.read(nb_path, as_version=4)
    spell = {w: v for v in _paper_numbers() for w in _spellings(v)}
    typed = []
    for i, c in enumerate(nb.cells):
        for tok in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?k?(?![\w])", c.source):
            if tok in spell and not re.fullmatch(r"\d{1,2}", tok):
                typed.append((i, tok))
    assert not typed, f"paper numbers typed in {nb_path.name} (cell, number): {typed}"
