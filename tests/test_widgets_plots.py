import os
import shutil

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import grokkit as gk
from grokkit.widgets import Explorer


def _draw(weight_decay, seed):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [weight_decay, seed])
    return fig


def test_explorer_precomputes_every_frame_and_renders_both_ways():
    ex = Explorer(_draw, weight_decay=[0.1, 1.0, 3.0], seed=[1, 2], title="demo")
    assert len(ex.frames) == 6 and len(set(ex.frames.values())) == 6
    html = ex.html()
    assert html.count('type="range"') == 2 and html.count("data:image/png;base64,") == 7  # 6 frames + shown
    bundle = ex._repr_mimebundle_()
    assert "text/html" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    box = ex.widget()
    before = box.image.value
    box.sliders["weight_decay"].value = 3.0  # the live widget redraws through `draw`
    assert box.image.value != before and box.image.value == ex.frame(weight_decay=3.0, seed=1)


def test_single_valued_axes_are_shown_as_text():
    html = Explorer(_draw, weight_decay=[0.1, 1.0], seed=[5]).html()
    assert html.count('type="range"') == 1 and "seed: 5" in html


def test_explorer_rejects_bad_axes():
    with pytest.raises(ValueError, match="at least one slider"):
        Explorer(_draw)
    with pytest.raises(ValueError, match="non-empty list"):
        Explorer(_draw, weight_decay=0.1)


def test_figure_functions_return_figures(fast_run):
    figs = [
        gk.plots.curves(fast_run),
        gk.plots.test_accuracy_grid([fast_run] * 2, ["a", "b"]),
        gk.plots.grok_steps_by_group({"a": [100, None]}, {"a": 300}),
        gk.plots.heatmap(np.array([[1.0, np.nan]]), [1, 2], [3], "x", "y"),
        gk.plots.fourier_spectrum(np.ones(5), np.arange(5.0) + 1),
    ]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
    # the numbers behind them: the curves are the run's, the heatmap's cells the values (NaN masked), the
    # spectrum's bars the shares of power with the top frequencies labelled, misses drawn above the budget
    acc = figs[0].axes[0].lines
    assert list(acc[1].get_ydata()) == fast_run.curve("test_acc", 0)[1]
    assert list(acc[0].get_ydata()) == fast_run.curve("train_acc", 0)[1]
    cells = figs[3].axes[0].images[0].get_array()
    assert cells[0, 0] == 1.0 and bool(np.ma.getmaskarray(cells)[0, 1])
    bars = [p.get_height() for p in figs[4].axes[1].patches]
    assert np.allclose(bars, (np.arange(5.0) + 1) / 15) and "5" in [t.get_text() for t in figs[4].axes[1].texts]
    misses = [c for c in figs[2].axes[0].collections if len(c.get_offsets()) and c.get_offsets()[0][1] > 300]
    assert len(misses) == 1 and misses[0].get_offsets()[0][1] == pytest.approx(315)
    plt.close("all")


def test_step_scrubber_frames_state_and_live_widget(fast_run):
    from grokkit.widgets import MAX_STATE_BYTES, StepScrubber

    sc = StepScrubber(fast_run, title="demo")
    steps, _ = fast_run.trajectory("theta")
    f = sc.frames
    n = len(steps) + (fast_run.steps[-1] > int(steps[-1]))  # the checkpoints and the final weights
    assert f.steps[0] == 0 and f.steps[-1] == fast_run.steps[-1] and len(f.steps) == min(60, n)
    assert 0 < sc.state_bytes < MAX_STATE_BYTES
    assert f.spectrum.shape == (len(f.steps), f.p // 2) and f.clock.shape == (len(f.steps), 2, f.p, 2)
    # the last frame is the final model: its answer table is the final test accuracy's
    data = fast_run.dataset()
    assert torch.equal(f.answers[-1], gk.geometry.answer_table(fast_run.model(), data))
    test_acc = float(f.answers[-1][data.pairs[data.test_idx, 0], data.pairs[data.test_idx, 1]].float().mean())
    assert test_acc == pytest.approx(fast_run.final("test_acc")[0], abs=1e-6)
    assert float(f.answers[0].float().mean()) < 0.2 < float(f.answers[-1].float().mean())
    html = sc.html()
    assert html.count('class="gk-panel"') == 4 and 'class="gk-step"' in html
    bundle = sc._repr_mimebundle_()
    assert "text/html" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    box = sc.widget()
    before = box.image.value
    box.slider.value = len(f.steps) - 1
    assert box.image.value != before and box.image.value == sc.frame_png(len(f.steps) - 1)
    plt.close("all")


def test_step_scrubber_options_and_budget(fast_run, monkeypatch):
    from grokkit.widgets import StepScrubber, scrubber

    one = StepScrubber(fast_run, panels=("clock",), max_frames=5)
    assert one.html().count('class="gk-panel"') == 1 and len(one.frames.steps) == 5
    with pytest.raises(ValueError, match="subset"):
        StepScrubber(fast_run, panels=("clocks",))
    with pytest.raises(ValueError, match="max_frames"):
        StepScrubber(fast_run, max_frames=1)
    monkeypatch.setattr(scrubber, "MAX_STATE_BYTES", 10_000)
    with pytest.raises(ValueError, match="lower max_frames"):
        StepScrubber(fast_run)
    no_theta = gk.train(gk.presets.FAST.replace(max_steps=40, checkpoint_every=0), progress=False)
    with pytest.raises(KeyError, match="no theta checkpoints"):
        StepScrubber(no_theta)


def test_progress_figures(fast_run):
    pm = gk.geometry.progress_over(fast_run)
    fig = gk.plots.progress_measures(pm, fast_run, marks={"t90": fast_run.grok_step(0.9, 1)[0]})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) >= 3
    frames = gk.geometry.circuit_frames(fast_run, max_frames=3)
    assert len(gk.plots.circuit_frame(frames, 2, fast_run).axes) == 5
    plt.close("all")


@pytest.mark.browser
def test_browser_moves_every_scrubber_panel(fast_run, tmp_path):
    from browser_check import CHROMIUM_ARGS, _scrub, serve
    from playwright.sync_api import sync_playwright

    from grokkit.widgets import StepScrubber

    good = StepScrubber(fast_run, max_frames=8)
    frozen = StepScrubber(fast_run, max_frames=8)
    for key in ("spectrum", "clock", "answers", "cursor", "steps"):  # every frame a copy of the first
        frozen.state[key] = [frozen.state[key][0]] * len(frozen.state[key])
    (tmp_path / "good.html").write_text(f"<html><body>{good.html()}</body></html>")
    (tmp_path / "frozen.html").write_text(f"<html><body>{frozen.html()}</body></html>")
    server, base = serve(tmp_path)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            found = {}
            for name in ("good", "frozen"):
                page.goto(f"{base}{name}.html", wait_until="load")
                problems = []
                assert _scrub(page, name, problems) == 1
                found[name] = problems
            browser.close()
    finally:
        server.shutdown()
    assert found["good"] == []
    assert len(found["frozen"]) == 4 and all("did not change" in p for p in found["frozen"])


def _grid(fast_run, short):
    """A 2 x 2 weight-decay x train-fraction sweep: one grokked run, three censored ones."""
    from grokkit.engines.sweep import SweepResult

    values = {"weight_decay": [0.0, 1.0], "train_frac": [0.5, 0.7]}
    runs = [*short, fast_run]
    return SweepResult(values, [r.config for r in runs], runs)


@pytest.fixture(scope="module")
def short_run():  # three runs that never grok, different seeds
    return [gk.train(gk.presets.FAST.replace(max_steps=40, seed=s), progress=False) for s in (1, 2, 3)]


def test_phase_explorer_state_boundary_and_budget(fast_run, short_run, monkeypatch):
    from grokkit.geometry import boundary, grok_table
    from grokkit.widgets import PhaseExplorer, phase_explorer

    grid = _grid(fast_run, short_run)
    t = fast_run.grok_step()[0]
    assert grok_table(grid) == [[None, None], [None, t]] and boundary(grid) == {0.5: None, 0.7: 1.0}
    ex = PhaseExplorer(grid, title="demo", source="Source: a test grid.")
    cells = ex.state["phase"]
    # 40 steps: the training set is not fit yet, which `outcome` calls unstable (orange ~)
    assert cells["1,1"]["t"] == t and cells["0,0"]["label"] == "~" and cells["0,0"]["color"] == "#fdd0a2"
    assert len(ex.state["curves"]["1,1"][0]["x"]) <= 150 and ex.state["budget"] == fast_run.config.max_steps
    html = ex.html()
    assert 'class="gk-phase-wd"' in html and 'class="gk-phase-frac"' in html and "a test grid" in html
    monkeypatch.setattr(phase_explorer, "MAX_STATE_BYTES", 1000)
    with pytest.raises(ValueError, match="lower points"):
        PhaseExplorer(grid)
    with pytest.raises(ValueError, match="weight_decay and train_frac"):
        from grokkit.engines.sweep import SweepResult

        PhaseExplorer(SweepResult({"weight_decay": [1.0]}, [fast_run.config], [fast_run]))


def test_phase_explorer_seed_spread(fast_run, short_run):
    from grokkit.engines.sweep import SweepResult
    from grokkit.widgets import PhaseExplorer

    values = {"weight_decay": [1.0], "train_frac": [0.7], "seed": [1, 2, 3]}
    runs = [fast_run, short_run[0], fast_run]
    cell = PhaseExplorer(SweepResult(values, [r.config for r in runs], runs)).state["phase"]["0,0"]
    assert cell["label"].endswith(" 2/3") and cell["steps"][1] is None and len(cell["steps"]) == 3


@pytest.mark.browser
def test_browser_moves_the_phase_explorer(fast_run, short_run, tmp_path):
    from browser_check import CHROMIUM_ARGS, _phase, serve
    from playwright.sync_api import sync_playwright

    from grokkit.widgets import PhaseExplorer

    good = PhaseExplorer(_grid(fast_run, short_run))
    stuck = PhaseExplorer(_grid(fast_run, short_run))
    stuck.state["curves"] = {k: stuck.state["curves"]["0,0"] for k in stuck.state["curves"]}  # one curve for all
    (tmp_path / "good.html").write_text(f"<html><body>{good.html()}</body></html>")
    (tmp_path / "stuck.html").write_text(f"<html><body>{stuck.html()}</body></html>")
    server, base = serve(tmp_path)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            found = {}
            for name in ("good", "stuck"):
                page.goto(f"{base}{name}.html", wait_until="load")
                found[name] = []
                assert _phase(page, name, found[name]) == 1
            browser.close()
    finally:
        server.shutdown()
    assert found["good"] == [] and len(found["stuck"]) == 2 and all("curves" in p for p in found["stuck"])
