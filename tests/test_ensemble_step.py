"""The ensemble step's precisions and fused clip/AdamW (grokkit.engines.stacked), and benchmarks/ensemble_step.py."""

import json

import ensemble_step  # benchmarks/ (tests/conftest.py puts it on the path)
import pytest
import torch
from test_ensemble import _assert_same_runs, _rel_diff, _resumable_members

import grokkit as gk
from grokkit.engines import stacked
from grokkit.engines.ensemble import Ensemble, train_ensemble
from grokkit.engines.stacked import adamw_, adamw_fused_, clip_, clip_fused_, flat_of, pack_
from grokkit.objective import tf32

TINY = gk.presets.FAST.replace(max_steps=30, stop_threshold=None, device="cpu")


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread (two, on a busy 2-core CPU, spin-wait many times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- precision -------------------------------------------------------------------------------------
def test_tf32_is_accepted_and_is_plain_fp32_on_a_cpu():
    c = TINY.replace(max_steps=20)
    solo, solo_tf32 = gk.train(c, progress=False), gk.train(c.replace(precision="tf32"), progress=False)
    assert all(torch.equal(solo.weights[k], v) for k, v in solo_tf32.weights.items())
    assert solo.history["train_loss"] == solo_tf32.history["train_loss"]
    pair = [c, c.replace(seed=3)]
    ens = train_ensemble(pair, progress=False)
    ens_tf32 = train_ensemble([m.replace(precision="tf32") for m in pair], progress=False)
    for a, b in zip(ens, ens_tf32):
        assert all(torch.equal(a.weights[k], v) for k, v in b.weights.items())


def test_a_bad_precision_names_the_allowed_values():
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'tf32', 'bf16'\), got 'fp16'"):
        TINY.replace(precision="fp16")
    with pytest.raises(TypeError, match="precision must be one of"):
        TINY.replace(precision=32)


def test_the_tf32_context_sets_the_matmul_precision_on_cuda_only_and_restores_it():
    before, cuda, on = torch.get_float32_matmul_precision(), torch.device("cuda"), TINY.replace(precision="tf32")
    with tf32(on, cuda):  # (a CPU build has the flags too: the CUDA path runs here, without a GPU)
        assert torch.get_float32_matmul_precision() == "high"
    assert torch.get_float32_matmul_precision() == before
    with pytest.raises(KeyError), tf32(on, cuda):
        raise KeyError  # restored on an exception too
    assert torch.get_float32_matmul_precision() == before
    for config, device in ((on, torch.device("cpu")), (TINY, cuda), (None, cuda)):
        with tf32(config, device):
            assert torch.get_float32_matmul_precision() == before


# --- fused clip and AdamW ----------------------------------------------------------------------------
def _stacks(n, seed):
    g = torch.Generator().manual_seed(seed)
    shapes = {"a.in_proj_weight": (n, 6, 4), "a.bias": (n, 6), "b.weight": (n, 3, 2, 2), "ln.weight": (n, 5)}
    return {k: torch.randn(s, generator=g) for k, s in shapes.items()}


@pytest.mark.parametrize("n", [4, 1])
def test_fused_clip_and_adamw_match_the_loop(n):
    hp = {
        "lr": torch.tensor([1e-3, 3e-3, 1e-2, 1e-3]),
        "wd": torch.tensor([1.0, 0.0, 0.1, 1.0]),
        "beta1": torch.tensor([0.9, 0.8, 0.9, 0.95]),
        "beta2": torch.tensor([0.98, 0.9, 0.999, 0.98]),
        "eps": torch.tensor([1e-8, 1e-6, 1e-8, 1e-8]),
    }
    clip = torch.tensor([1.0, float("inf"), 0.01, 5.0])
    hp, clip = {k: v[:n] for k, v in hp.items()}, clip[:n]
    loop = [_stacks(n, 0), {}, {}]
    loop[1], loop[2] = ({k: torch.zeros_like(v) for k, v in loop[0].items()} for _ in range(2))
    fused = [{k: v.clone() for k, v in d.items()} for d in loop]
    pack_(*fused)
    no_decay = {"a.in_proj_weight"}  # a column range in the middle of the packed buffer stays undecayed
    t_loop, t_fused = torch.zeros(1), torch.zeros(1)
    for step in range(6):
        grads = _stacks(n, 100 + step)
        g_fused = {k: v.clone() for k, v in grads.items()}
        torch.testing.assert_close(clip_fused_(g_fused, clip), clip_(grads, clip), rtol=1e-6, atol=0)
        assert flat_of(g_fused) is not None  # the gradients were packed: hooks would edit the buffer
        t_loop += 1
        t_fused += 1
        adamw_(loop[0], grads, loop[1], loop[2], t_loop, *hp.values(), no_decay)
        adamw_fused_(fused[0], g_fused, fused[1], fused[2], t_fused, *hp.values(), no_decay)
    assert all(flat_of(d) is not None for d in fused)  # still packed (updated in place)
    for a, b in zip(fused, loop):
        for k in b:
            torch.testing.assert_close(a[k], b[k], rtol=1e-6, atol=1e-7)
    unpacked = [{k: v.clone() for k, v in d.items()} for d in loop]  # not packed: adamw_fused_ is adamw_
    adamw_fused_(unpacked[0], grads, unpacked[1], unpacked[2], t_loop, *hp.values(), no_decay)
    adamw_(loop[0], grads, loop[1], loop[2], t_loop, *hp.values(), no_decay)
    assert all(torch.equal(unpacked[0][k], v) for k, v in loop[0].items())


def test_a_fused_ensemble_matches_the_loop_through_hooks_and_retirement(monkeypatch):
    base = TINY.replace(decay_exclude=("in_proj",))
    P = gk.n_params(gk.build_model(base))
    basis = torch.linalg.qr(torch.randn(P, 3, generator=torch.Generator().manual_seed(1)))[0]

    def members():
        return [
            (base, [gk.GradientProjection(basis, 1.0, start=10)]),
            (base.replace(seed=3, weight_decay=0.1, max_steps=20), []),  # retires first: the stack shrinks
            (base.replace(seed=5, grad_clip=0.01, lr=1e-3, betas=(0.8, 0.9), max_steps=25), []),  # then one left
        ]

    loop = Ensemble(members()).run(progress=False)

    def unfused(*args):
        raise AssertionError("adamw_fused_ fell back to the loop: a stack was not packed")

    monkeypatch.setattr(stacked, "adamw_", unfused)
    fused_ens = Ensemble(members(), fused=True)
    fused = fused_ens.run(progress=False)
    assert fused_ens.fused and flat_of(fused_ens.params) is not None  # re-packed after the retirement
    for a, b in zip(fused, loop):
        assert _rel_diff(a.weights, b.weights, base.d_model) < 1e-5, a.config.describe()
        assert a.history["step"] == b.history["step"] and a.info["final_step"] == b.info["final_step"]


def test_an_interrupted_fused_ensemble_resumes_to_the_same_result(tmp_path):
    """The resumed stacks are packed afresh (as after a retirement): the same Runs, bit for bit."""
    whole = Ensemble(_resumable_members(), fused=True).run(progress=False)
    with pytest.raises(KeyboardInterrupt):
        interrupted = Ensemble(_resumable_members(interrupt_at=90), fused=True)
        interrupted.run(progress=False, resume_dir=tmp_path, resume_every_s=0)
    _assert_same_runs(Ensemble(_resumable_members(), fused=True).run(progress=False, resume_dir=tmp_path), whole)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fused_graphed_and_tf32_ensembles_on_the_gpu():
    c = TINY.replace(device="cuda", max_steps=100)
    pair = [c, c.replace(seed=3, weight_decay=0.1, max_steps=60)]
    before = torch.get_float32_matmul_precision()
    loop = Ensemble([(m, ()) for m in pair], fused=False).run(progress=False)  # graphed, the loop
    fused = train_ensemble([m.replace(fused_step=True) for m in pair], progress=False)  # graphed and fused
    eager = train_ensemble([m.replace(cuda_graph=False, fused_step=True) for m in pair], progress=False)
    tf = train_ensemble([m.replace(precision="tf32", fused_step=True) for m in pair], progress=False)
    assert torch.get_float32_matmul_precision() == before  # restored after every step and capture
    for f, lp, e, t in zip(fused, loop, eager, tf):
        assert _rel_diff(f.weights, lp.weights, c.d_model) < 1e-4
        assert _rel_diff(e.weights, f.weights, c.d_model) < 1e-4
        assert 0 < _rel_diff(t.weights, f.weights, c.d_model) < 0.05  # TF32 matmuls did run (10-bit mantissas)


# --- benchmarks/ensemble_step.py ---------------------------------------------------------------------
def _row(n, mode, rate):
    return {"n": n, "mode": mode, "member_steps_per_s": rate}


def test_pick_takes_the_fastest_agreeing_mode_at_the_largest_size():
    modes = {"eager-fp32": True, "graphed-fp32": True, "graphed-tf32": True, "graphed-bf16": False}
    agreement = {"modes": {m: {"agrees": ok} for m, ok in modes.items()}}
    rows = [_row(64, "eager-fp32", 1000), _row(64, "graphed-fp32", 5000), _row(64, "graphed-tf32", 9000)]
    rows += [_row(64, "graphed-bf16", 12000)]  # faster, but it did not agree
    rows += [_row(16, "graphed-fp32", 20000)]  # faster, at a smaller stack
    rows += [{"n": 256, "mode": "graphed-tf32", "error": "OutOfMemoryError"}]  # not measured
    fused = {"cuda_graph": True, "fused_step": True}  # the fused clip and AdamW: only where it agreed
    assert ensemble_step.pick({"rows": rows, "agreement": agreement}) == {"precision": "tf32"} | fused
    agreement["modes"]["graphed-tf32"]["agrees"] = False
    assert ensemble_step.pick({"rows": rows, "agreement": agreement}) == {"precision": "fp32"} | fused
    assert ensemble_step.pick({"rows": [], "agreement": agreement}) == {}
    assert ensemble_step.pick({"rows": rows, "agreement": {"modes": {}}}) == {}
    assert ensemble_step.pick({}) == {}


def test_agree_allows_one_eval_interval():
    assert ensemble_step.agree([[300], [None]], [[400], [None]], 100)
    assert not ensemble_step.agree([[300], [None]], [[401], [None]], 100)
    assert not ensemble_step.agree([[300]], [[None]], 100)


def test_the_benchmark_dry_run_writes_its_table(tmp_path, capsys):
    out = tmp_path / "step.json"
    table = ensemble_step.main(["--dry-run", "--out", str(out)])
    assert json.loads(out.read_text()) == table
    assert {"device", "torch", "rows", "agreement", "pick", "skipped_sizes"} <= table.keys()
    assert {(r["n"], r["mode"]) for r in table["rows"]} == {
        (n, m) for n in (2, 4) for m in ("eager-fp32", "eager-bf16")
    }
    assert all(r["member_steps_per_s"] > 0 for r in table["rows"])
    assert table["agreement"]["reference"] == "eager-fp32" and table["agreement"]["modes"]["eager-fp32"]["agrees"]
    assert table["pick"] == ensemble_step.pick(table) and table["pick"] in [{}, *ensemble_step.MODES.values()]
    assert "pick:" in capsys.readouterr().out
    assert torch.get_num_threads() == 1  # (this file's fixture) the benchmark restored the thread count
