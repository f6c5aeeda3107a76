import sys

import pytest
import torch
from test_train import Interrupt, Residual

import grokkit as gk
from grokkit.engines.ensemble import Ensemble, train_ensemble
from grokkit.engines.sweep import run_many

SHORT = gk.presets.FAST.replace(max_steps=40, stop_threshold=None)


def _rel_diff(a: dict, b: dict, d_model: int) -> float:
    """Max relative difference over parameters, leaving out the key bias: its gradient is exactly
    zero in exact arithmetic (softmax ignores a shift shared by all keys), so Adam turns rounding
    noise there into full-size steps in any two implementations."""
    worst = 0.0
    for k in b:
        x, y = a[k].clone(), b[k].clone()
        if k.endswith("in_proj_bias"):
            x[d_model : 2 * d_model] = y[d_model : 2 * d_model] = 0
        worst = max(worst, float((x - y).abs().max() / y.abs().max()))
    return worst


def test_members_match_solo_runs_and_each_hyperparameter_takes_effect():
    configs = [
        SHORT,
        SHORT.replace(lr=1e-3),
        SHORT.replace(weight_decay=0.1),
        SHORT.replace(train_frac=0.5),
        SHORT.replace(grad_clip=0.01),
        SHORT.replace(betas=(0.8, 0.9)),
        SHORT.replace(seed=7),
        SHORT.replace(ops=("x2_y2",)),
    ]
    members = train_ensemble(configs, progress=False)
    solos = [gk.train(c, progress=False) for c in configs]
    for c, m, s in zip(configs, members, solos):
        assert _rel_diff(m.weights, s.weights, c.d_model) < 1e-5, c.describe()
        assert m.history["step"] == s.history["step"]
        for got, want in zip(m.history["train_loss"], s.history["train_loss"]):
            assert abs(got[0] - want[0]) < 1e-4
    for s in solos[1:]:  # every varied field changed the solo run, so it changed the member too
        assert _rel_diff(s.weights, solos[0].weights, SHORT.d_model) > 1e-3


def test_members_stop_on_their_own_and_load_like_solo_runs(tmp_path):
    fast, short = gk.presets.FAST, SHORT.replace(max_steps=70, seed=3)
    grokked, capped = train_ensemble([fast, short], progress=False)
    assert grokked.grokked and grokked.info["final_step"] == grokked.grok_step()[0]
    assert capped.info["final_step"] == 70 and capped.history["step"][-1] == 60
    back = gk.Run.load(grokked.save(tmp_path / "m"))
    solo = gk.train(short, progress=False)
    steps, mats = gk.Run.load(capped.save(tmp_path / "c")).attention_trajectory()
    solo_steps, solo_mats = solo.attention_trajectory()
    assert torch.equal(steps, solo_steps) and mats.keys() == solo_mats.keys()
    assert torch.allclose(mats[(0, "W_Q")], solo_mats[(0, "W_Q")], atol=1e-4)
    assert back.trajectory("theta")[1].shape[1] == gk.n_params(back.model())
    assert "ensemble" in back.info["engine"]


def test_hooks_see_each_members_own_gradients():
    P = gk.n_params(gk.build_model(SHORT))
    basis = torch.linalg.qr(torch.randn(P, 3, generator=torch.Generator().manual_seed(1)))[0]
    before, after, other = Residual(basis), Residual(basis), Residual(basis)
    members = [(SHORT, [before, gk.GradientProjection(basis, 1.0, start=10), after]), (SHORT.replace(seed=9), [other])]
    projected, plain = Ensemble(members).run(progress=False)
    ratio = torch.tensor(after.values) / torch.tensor(before.values)
    assert torch.allclose(ratio[:10], torch.ones(10)) and ratio[10:].max() < 1e-4
    assert min(other.values) > 0.5 * max(other.values) > 0  # the other member was left alone
    solo = gk.train(SHORT, [gk.GradientProjection(basis, 1.0, start=10)], progress=False)
    assert _rel_diff(projected.weights, solo.weights, SHORT.d_model) < 1e-5
    assert projected.info["key"] == solo.info["key"]


def test_members_must_share_the_model_and_the_pair_set():
    with pytest.raises(ValueError, match="must agree"):
        Ensemble([(SHORT, ()), (SHORT.replace(d_model=32), ())])
    with pytest.raises(ValueError, match="must agree"):  # mul leaves out a = 0 and b = 0
        Ensemble([(SHORT, ()), (SHORT.replace(ops=("mul",)), ())])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graph_and_ensemble_match_eager_on_the_gpu():
    c = SHORT.replace(device="cuda", max_steps=100)
    eager = gk.train(c.replace(cuda_graph=False), progress=False)
    graphed = gk.train(c, progress=False)
    assert _rel_diff(graphed.weights, eager.weights, c.d_model) < 1e-4
    member = train_ensemble([c, c.replace(seed=3)], progress=False)[0]
    assert _rel_diff(member.weights, graphed.weights, c.d_model) < 1e-4


def test_ensemble_and_solo_stop_at_the_same_step_between_evaluations():
    """steps_after_stop not a multiple of eval_every: both engines stop exactly at the stop step
    (grokkit.training.stopping), not at the next evaluation."""
    c = gk.presets.FAST.replace(eval_every=20, steps_after_stop=30, checkpoint_every=0, snapshot_every=0)
    solo = gk.train(c, progress=False)
    (ens,) = train_ensemble([c], progress=False)
    for run in (solo, ens):  # (their trajectories agree to rounding, so their stop steps may differ)
        assert run.stop_step is not None and run.stop_step % 20 == 0
        assert run.info["final_step"] == run.stop_step + 30  # not the next evaluation, stop_step + 40
        assert run.info["stopped_early"] and run.history["step"][-1] == run.stop_step + 20


# --- resuming an interrupted ensemble -----------------------------------------------------------

# test accuracy at initialisation is above 1% for seeds 0 and 3: the criterion is met at step 0
EARLY = SHORT.replace(max_steps=120, stop_threshold=0.01, stop_patience=1)


def _resumable_members(interrupt_at=None):
    """A stops early at 70 (before the interruption at 90), B's stop step 110 is pending at it; B has a
    gradient hook, C step hooks that move its weights and record with their own generator."""
    P = gk.n_params(gk.build_model(SHORT))
    basis = torch.linalg.qr(torch.randn(P, 2, generator=torch.Generator().manual_seed(0)))[0]
    c_hooks = [gk.hooks.Kick(basis, 1.0, "random", every=10, start=20), gk.trackers.DefectTracker(every=20, K=2)]
    return [
        (EARLY.replace(steps_after_stop=70), []),
        (EARLY.replace(steps_after_stop=110, seed=3), [gk.GradientProjection(basis, 0.5, start=30)]),
        (SHORT.replace(max_steps=120, seed=5), c_hooks + ([Interrupt(interrupt_at)] if interrupt_at else [])),
    ]


class _CountSteps(gk.Hook):
    def __init__(self):
        self.n = 0

    def on_step(self, ctx):
        self.n += 1


def _assert_same_runs(got, want):
    for g, w in zip(got, want):
        assert g.history == w.history and g.records == w.records and g.info["key"] == w.info["key"]
        assert g.info["final_step"] == w.info["final_step"] and g.info["stopped_early"] == w.info["stopped_early"]
        assert g.weights.keys() == w.weights.keys() and all(torch.equal(g.weights[k], v) for k, v in w.weights.items())
        assert g.tensors.keys() == w.tensors.keys()
        for name, t in w.tensors.items():
            assert torch.equal(g.tensors[name]["step"], t["step"])
            assert torch.equal(g.tensors[name]["value"], t["value"]), name


def test_interrupted_ensemble_resumes_to_the_same_result(tmp_path, capsys):
    whole = Ensemble(_resumable_members()).run(progress=False)
    assert [r.info["final_step"] for r in whole] == [70, 110, 120]
    assert whole[2].records["kick_norm"]["step"][0] == 20 and len(whole[2].records["defect"]["step"]) == 7
    with pytest.raises(KeyboardInterrupt):
        Ensemble(_resumable_members(interrupt_at=90)).run(progress=False, resume_dir=tmp_path, resume_every_s=0)
    assert (tmp_path / "state.pt").exists()
    reported, members, count = [], _resumable_members(), _CountSteps()
    members[2][1].append(count)
    resumed = Ensemble(members).run(
        progress=False, resume_dir=tmp_path, on_finished=lambda i, run: reported.append((i, run.info["final_step"]))
    )
    assert "discarding" not in capsys.readouterr().out and 0 < count.n <= 40  # resumed from step 80 or later
    assert reported == [(0, 70), (1, 110), (2, 120)]  # A came from the state (saved after step 70), first
    _assert_same_runs(resumed, whole)


def test_stale_ensemble_resume_state_is_discarded(tmp_path, capsys):
    members = [(SHORT.replace(snapshot_every=0), []), (SHORT.replace(seed=3, snapshot_every=0), [])]
    with pytest.raises(KeyboardInterrupt):
        interrupted = [members[0], (members[1][0], [Interrupt(30)])]
        Ensemble(interrupted).run(progress=False, resume_dir=tmp_path, resume_every_s=0)
    other = [(SHORT.replace(seed=7, snapshot_every=0), []), members[1]]
    got = Ensemble(other).run(progress=False, resume_dir=tmp_path)
    assert "discarding unusable ensemble resume state" in capsys.readouterr().out
    _assert_same_runs(got, Ensemble(other).run(progress=False))


def test_an_interrupted_ensemble_sweep_caches_finished_members_and_resumes_the_rest(runs_root, monkeypatch):
    monkeypatch.setattr(sys.modules["grokkit.engines.sweep"], "ENSEMBLE_RESUME_EVERY_S", 0)
    a, c = EARLY.replace(steps_after_stop=70), SHORT.replace(max_steps=120, seed=5)
    with pytest.raises(KeyboardInterrupt):
        run_many([(a, ()), (c, (Interrupt(90),))], root=runs_root, engine="ensemble", progress=False)
    assert gk.run_dir(a, root=runs_root).exists() and not gk.run_dir(c, root=runs_root).exists()
    (partial,) = runs_root.glob("ensemble-*.partial")
    count = _CountSteps()  # the chunk is re-formed without the cached member and still resumes
    runs, _, timing = run_many([(a, ()), (c, (count,))], root=runs_root, engine="ensemble", progress=False)
    assert timing["cached"] == 1 and 0 < count.n <= 40 and not partial.exists()
    _assert_same_runs(runs, Ensemble([(a, []), (c, [])]).run(progress=False))


@pytest.mark.slow
def test_compiled_ensemble_step_matches_eager():
    """config.compile: the stacked forward/backward and AdamW under torch.compile give the eager
    ensemble's runs to float tolerance (one stack size: each compilation costs ~30 s on 2 cores)."""
    configs = [SHORT.replace(max_steps=20), SHORT.replace(max_steps=20, seed=5, weight_decay=0.1)]
    eager = train_ensemble(configs, progress=False)
    compiled = train_ensemble([c.replace(compile=True) for c in configs], progress=False)
    for c, e, k in zip(configs, eager, compiled):
        assert _rel_diff(k.weights, e.weights, c.d_model) < 1e-4, c.describe()
        assert k.history["step"] == e.history["step"] and k.info["key"] == e.info["key"]
