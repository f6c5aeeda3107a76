"""Chapter 1's in-page trainer (grokkit/widgets/browser.py): its state, the downloaded run's loader, and
in headless Chromium (Wasm backend) the same run as grokkit's from the same start, plus its messages."""

import json
import math
import os
import shutil

import pytest
import torch

import grokkit as gk
from grokkit.widgets import BrowserRunError, BrowserTrainer, load_browser_run
from grokkit.widgets.browser import WEIGHT_DECAYS, browser_config

FAST = gk.presets.FAST


def _browser_json(config, history, weights, split, **info) -> dict:
    """A run in the download's format (what the page's `json()` writes)."""
    return {
        "format": "grokkit.browser-run",
        "version": 1,
        "config": config.to_dict(),
        "history": history,
        "records": {"fourier_power": {"step": [0], "value": [[1.0] * (config.p // 2)]}},
        "split": {"train_idx": split[0].tolist(), "test_idx": split[1].tolist()},
        "weights": {n: {"shape": list(w.shape), "data": w.reshape(-1).tolist()} for n, w in weights.items()},
        "info": {"engine": "TensorFlow.js 4.22.0", "backend": "wasm", "final_step": history["step"][-1], **info},
    }


def test_trainer_state_is_bounded_and_refuses_what_it_cannot_train():
    t = BrowserTrainer(title="demo")
    html = t.html()
    assert html.count('type="range"') == 4 and 'class="gk-train-op"' in html and "gk-train-download" in html
    assert t.options["weight_decay"] == list(WEIGHT_DECAYS) and t.options["seed"][0] == 0
    for field, values in t.options.items():  # each slider moves over its list only, starting at FAST's value
        assert f'data-field="{field}" min="0" max="{len(values) - 1}"' in html
        assert values.index(getattr(FAST, field)) >= 0
    assert t.state["config"]["snapshot_every"] == 0 and "importScripts" in t.state["worker"]
    assert set(t.state["ops"]) == set(gk.OPERATIONS) and t.phase is None
    assert BrowserTrainer(base=FAST.replace(weight_decay=0.4)).options["weight_decay"].count(0.4) == 1
    for bad in (dict(norm="rmsnorm"), dict(equals_token=True), dict(ops=("add", "mul"))):
        with pytest.raises(ValueError, match="cannot train"):
            browser_config(FAST.replace(**bad))


def test_the_sliders_start_at_the_grids_fastest_cell():
    from types import SimpleNamespace

    from grokkit.widgets.browser import start_config

    off = dict(snapshot_every=0, checkpoint_every=0)
    grid = SimpleNamespace(configs=[FAST.replace(lr=1e-2, max_steps=2500, eval_every=100, **off)])
    cells = {"0,0": {"t": None}, "0,1": {"t": 1800}, "1,0": {"t": 900}, "1,1": {"t": 1200}}
    phase = {"wds": [0.1, 1.0], "fracs": [0.5, 0.7], "cells": cells}
    c = start_config(grid, phase)  # the grid's rule at its fastest cell, evaluated as often as FAST
    assert (c.weight_decay, c.train_frac, c.lr, c.max_steps, c.eval_every) == (1.0, 0.5, 1e-2, 2500, FAST.eval_every)
    assert start_config(grid, {**phase, "cells": {"0,0": {"t": None}}}).weight_decay == FAST.weight_decay
    assert start_config(SimpleNamespace(configs=[gk.presets.SINGLE_TASK]), phase) == FAST  # too big for a page
    assert start_config() == FAST


def test_a_downloaded_run_loads_into_a_run(tmp_path):
    config = browser_config(FAST).replace(max_steps=60)
    model, data = gk.build_model(config), gk.make_dataset("add", config.p, config.train_frac, config.seed)
    metrics = gk.evaluate(model, data).tolist()
    names = ("train_acc", "test_acc", "train_loss", "test_loss")
    history = {"step": [0, 20], **{m: [[v[0]], [v[0]]] for m, v in zip(names, metrics)}}
    history["test_loss"][1] = [None]  # NaN arrives as null
    weights = {n: p.detach() for n, p in model.named_parameters()}
    d = _browser_json(config, history, weights, (data.train_idx, data.test_idx), diverged_at=20)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(d))
    for source in (path, str(path), path.read_text(), d):
        run = load_browser_run(source)
        assert run.config == config and run.steps == [0, 20] and math.isnan(run.history["test_loss"][1][0])
    assert run.diverged_at == 20 and run.info["hooks"] == ["browser-tfjs"] and run.info["backend"] == "wasm"
    assert torch.equal(run.split[0], data.train_idx) and run.series("fourier_power")[0] == [0]
    assert gk.evaluate(run.model(), run.dataset())[1, 0] == pytest.approx(metrics[1][0])  # the same function
    again = gk.Run.load(run.save(tmp_path / "saved"))  # a stored run like any other, its own cache key
    assert again.info["key"] == config.key("browser-tfjs") != config.key()
    bad = [
        ({**d, "format": "x"}, "not a browser run"),
        ({**d, "version": 2}, "version 2"),
        ({**d, "split": {"train_idx": [0], "test_idx": [1]}}, "must split the 961 pairs"),
        ({**d, "weights": {**d["weights"], "pos": {"shape": [3, 64], "data": [0.0] * 192}}}, "not this config"),
        ({k: v for k, v in d.items() if k != "weights"}, "lacks"),
        ("{not json", "not a JSON"),
    ]
    for source, message in bad:
        with pytest.raises(BrowserRunError, match=message):
            load_browser_run(source)


# --- in Chromium ---------------------------------------------------------------------------------------


class _Start(gk.Hook):
    """The run's initial weights and, per evaluation, its embedding (the browser starts from the same state)."""

    def on_start(self, ctx):
        self.init = {n: p.detach().reshape(-1).tolist() for n, p in ctx.model.named_parameters()}
        self.batches, self.embed = [], {}

    def on_step(self, ctx):
        self.batches.append(ctx.batch.tolist())

    def on_eval(self, ctx):
        self.embed[ctx.step] = ctx.model.embed.weight.detach().clone()


def _site(tmp_path, body: str) -> str:
    """A page laid out as the built site's chapters are (notebooks/x.html beside ../_static/), TensorFlow.js
    vendored into _static/tfjs by tools/tfjs.py as the book build does; returns the page's path."""
    import tfjs

    tfjs.install(tmp_path / "_static")
    (tmp_path / "_static" / "documentation_options.js").write_text("")
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    page = tmp_path / "notebooks" / "page.html"
    head = '<meta charset="utf-8"><script src="../_static/documentation_options.js"></script>'
    page.write_text(f"<html><head>{head}</head><body>{body}</body></html>")
    return "notebooks/page.html"


def _browser(pw):
    from browser_check import CHROMIUM_ARGS

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    return pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


_DONE = "() => ['done', 'error'].includes(document.querySelector('.gk-train').dataset.state)"


@pytest.mark.browser
def test_browser_trains_like_pytorch_from_the_same_start(tmp_path):
    """FAST, add, seed 42: PyTorch here, TensorFlow.js (Wasm) in the page from the same initial weights, split
    and batches. Same function at step 0; grok step within 25%; the same key frequencies; the download loads."""
    from browser_check import serve
    from playwright.sync_api import sync_playwright

    config = browser_config(FAST).replace(device="cpu")
    rec = _Start()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is as fast, and no slower when the CPU is shared
    try:
        ref = gk.train(config.replace(steps_after_stop=400), [rec], progress=False)  # batches past its grok step too
    finally:
        torch.set_num_threads(threads)
    t_ref = ref.grok_step()[0]
    keys_ref = gk.geometry.key_frequencies(gk.geometry.fourier_power(rec.embed[t_ref]))
    start = {"init": rec.init, "split": {"train": ref.split[0].tolist(), "test": ref.split[1].tolist()}}
    start |= {"batches": rec.batches, "backend": "wasm"}
    server, base = serve(tmp_path)
    try:
        with sync_playwright() as pw:
            browser = _browser(pw)
            page = browser.new_page(accept_downloads=True)
            page.goto(base + _site(tmp_path, BrowserTrainer(base=config).html()), wait_until="load")
            page.evaluate("(s) => document.querySelector('.gk-train').gkTrain.start(s)", start)
            page.wait_for_function(_DONE, timeout=240_000, polling=500)
            status = page.inner_text(".gk-train-status")
            with page.expect_download() as download:
                page.click(".gk-train-download")
            path = tmp_path / "run.json"
            download.value.save_as(path)
            browser.close()
    finally:
        server.shutdown()
    assert "grokked at step" in status, status
    run = load_browser_run(path)
    t = run.grok_step()[0]
    assert run.info["backend"] == "wasm" and run.info["grok_step"] == t and t is not None
    assert abs(t - t_ref) <= 0.25 * t_ref, (t, t_ref)
    for m in ("test_loss", "train_loss"):  # the same model and the same start: the same function at step 0
        assert run.history[m][0][0] == pytest.approx(ref.history[m][0][0], rel=1e-4)
    keys = gk.geometry.key_frequencies(gk.geometry.fourier_power(run.weights["embed.weight"]))
    assert sorted(keys) == sorted(keys_ref), (keys, keys_ref)
    acc = gk.evaluate(run.model(), run.dataset())  # PyTorch, the browser's final weights
    assert float(acc[1, 0]) == pytest.approx(run.final("test_acc")[0], abs=0.01)


def _grid():
    """A 2 x 2 weight-decay x train-fraction sweep of short runs (none groks): the precomputed diagram."""
    values = {"weight_decay": [0.0, 1.0], "train_frac": [0.5, 0.7]}
    configs = [
        FAST.replace(max_steps=20, weight_decay=w, train_frac=f)
        for w in values["weight_decay"]
        for f in values["train_frac"]
    ]
    return gk.SweepResult(values, configs, [gk.train(c, progress=False) for c in configs])


@pytest.mark.browser
def test_browser_trainer_says_diverged_stopped_and_unsupported(tmp_path):
    from browser_check import serve
    from playwright.sync_api import sync_playwright

    rel = _site(tmp_path, BrowserTrainer(_grid(), base=FAST, source="a test grid").html())
    missing = tmp_path / "notebooks" / "missing.html"
    missing.write_text(f"<html><body>{BrowserTrainer(lib_url='nowhere/').html()}</body></html>")
    server, base = serve(tmp_path)
    status = lambda page: page.inner_text(".gk-train-status")
    try:
        with sync_playwright() as pw:
            browser = _browser(pw)
            page = browser.new_page()
            page.goto(base + rel, wait_until="load")
            assert page.locator('[data-panel="phase"] rect').count() == 4  # the precomputed diagram
            # lr 1e6: decay multiplies every weight by 1 - 1e6 a step; a loss overflows before the first evaluation
            page.evaluate("document.querySelector('.gk-train').gkTrain.start({config: {lr: 1e6}, backend: 'wasm'})")
            page.wait_for_function(_DONE, timeout=60_000, polling=200)
            assert status(page).startswith("diverged at step 20"), status(page)
            landed = page.locator('[data-panel="phase"]')  # the run landed on the diagram, marked diverged
            assert landed.locator("circle[data-run]").count() == 1 and landed.get_by_text("!", exact=True).count() == 1
            page.click(".gk-train-start")  # the sliders' run, stopped after its first evaluations
            page.wait_for_function("() => /^step [1-9]/.test(document.querySelector('.gk-train-status').textContent)")
            page.click(".gk-train-stop")
            page.wait_for_function(_DONE, timeout=60_000, polling=200)
            assert status(page).startswith("stopped at step"), status(page)
            page.goto(base + "notebooks/missing.html", wait_until="load")  # no library where it looks
            page.click(".gk-train-start")
            page.wait_for_function(_DONE, timeout=60_000, polling=200)
            assert status(page).startswith("Could not train in the page") and "nowhere/tf.min.js" in status(page)
            bare = browser.new_page()  # a browser without WebAssembly
            bare.add_init_script("delete window.WebAssembly")
            bare.goto(base + rel, wait_until="load")
            assert bare.locator(".gk-train").get_attribute("data-state") == "unsupported"
            assert "no WebAssembly" in status(bare) and "still work" in status(bare)
            assert bare.locator(".gk-train-start").is_disabled()
            assert bare.locator('[data-panel="phase"] rect').count() == 4
            browser.close()
    finally:
        server.shutdown()
