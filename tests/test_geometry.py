import json
import math

import numpy as np
import pytest
import torch
from conftest import ROOT

import grokkit as gk
from grokkit import geometry as G
from grokkit.geometry.commutator import commutator_defect, second_order_commutator
from grokkit.model import matrix_offsets


def test_trajectory_pca_matches_numpy_svd():
    g = torch.Generator().manual_seed(0)
    snaps = torch.randn(30, 6, 5, generator=g).cumsum(0)
    X = (snaps - snaps[0]).reshape(30, -1).double().numpy()
    for centred in (True, False):
        Xc = X - X.mean(0) if centred else X
        _, s, vt = np.linalg.svd(Xc, full_matrices=False)
        res = G.trajectory_pca(snaps, centred=centred)
        assert np.allclose(res.explained.numpy(), (s**2 / (s**2).sum())[: len(res.explained)], atol=1e-10)
        assert np.allclose(np.abs(res.components[:3].numpy()), np.abs(vt[:3]), atol=1e-8)
    line = torch.stack([torch.full((4, 4), float(t)) for t in range(10)])
    assert G.trajectory_pca(line).pc1 == pytest.approx(1.0)
    assert G.trajectory_pca(line).n_for(0.99) == 1


def test_random_walk_null_and_z():
    g = torch.Generator().manual_seed(1)
    walk = torch.randn(60, 400, generator=g, dtype=torch.float64).cumsum(0)
    null = G.random_walk_null(walk, trials=10, seed=2)
    assert null.shape == (10,) and 0.3 < float(null.mean()) < 0.9  # random walks: PC1 ~ 60%
    straight = torch.linspace(0, 1, 60)[:, None] * torch.randn(400, generator=g)
    assert G.null_z(G.trajectory_pca(straight).pc1, null) > 3


def test_expanding_window():
    snaps = torch.randn(45, 3, 3, generator=torch.Generator().manual_seed(0)).cumsum(0)
    ends, vals = G.expanding_window_pc1(snaps, n_windows=5)
    assert ends[0] == 5 and ends[-1] == 45 and len(vals) == len(ends)
    assert vals[-1] == pytest.approx(G.trajectory_pca(snaps).pc1)


def _small():
    cfg = gk.presets.FAST.replace(d_model=16, n_heads=2, d_ff=32, p=11, train_frac=0.6)
    torch.manual_seed(0)
    model = gk.build_model(cfg).double().train()
    return cfg, model, gk.data.dataset_for(cfg)


def test_commutator_matches_the_second_order_formula():
    """δ/η² -> H_B g_A − H_A g_B as η -> 0 (float64, Hessian-vector products as the oracle)."""
    cfg, model, data = _small()
    g = torch.Generator().manual_seed(3)
    idx_a = data.train_idx[torch.randint(len(data.train_idx), (1, 32), generator=g)]
    idx_b = data.train_idx[torch.randint(len(data.train_idx), (1, 32), generator=g)]
    oracle = second_order_commutator(model, data, idx_a[0], idx_b[0])
    for eta, tol in ((1e-3, 3e-2), (1e-4, 3e-3)):
        d = commutator_defect(model, data, K=1, eta=eta, batches=(idx_a, idx_b))
        rel = float((d.deltas[0] / eta**2 - oracle).norm() / oracle.norm())
        assert rel < tol, (eta, rel)
    ga, gb = _grad_norm(model, data, idx_a[0]), _grad_norm(model, data, idx_b[0])
    assert float(d.values[0]) == pytest.approx(float(oracle.norm()) / (ga * gb), rel=1e-2)


def _grad_norm(model, data, idx):
    model.zero_grad()
    from grokkit.objective import task_loss

    task_loss(model(data.inputs[idx]), data.labels[idx]).backward()
    return float(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm())


def test_vectorised_samples_equal_separate_samples():
    cfg, model, data = _small()
    g = torch.Generator().manual_seed(5)
    idx = [data.train_idx[torch.randint(len(data.train_idx), (3, 16), generator=g)] for _ in range(2)]
    together = commutator_defect(model, data, K=3, batches=tuple(idx))
    for k in range(3):
        one = commutator_defect(model, data, K=1, batches=(idx[0][k : k + 1], idx[1][k : k + 1]))
        assert one.values[0] == pytest.approx(float(together.values[k]), rel=1e-8)
    assert together.median == pytest.approx(float(together.values.median()))


def test_authors_formula_is_float32_round_off_at_initialisation():
    """The papers' model at initialisation: in float32 the authors' formula gives ~10x the exact defect
    (the round-off of θ_AB and θ_BA as parameter vectors); in float64 the two agree, and float32 exact
    agrees with float64. One call returns both values from the same gradients."""
    cfg = gk.presets.SINGLE_TASK
    torch.manual_seed(42)
    model = gk.build_model(cfg).train()
    data = gk.data.dataset_for(cfg)
    gen = lambda: torch.Generator().manual_seed(0)
    d32 = commutator_defect(model, data, K=3, generator=gen())
    assert 5 < d32.median_authors / d32.median_exact < 20
    # the round-off estimate is of the size of the measured error, and an upper estimate of it
    err, est = d32.authors_error, d32.roundoff
    assert torch.all(err < est) and torch.all(est < 10 * err)
    assert torch.allclose(d32.authors**2, d32.exact**2 + err**2, rtol=0.3)  # error ~ orthogonal to δ
    d64 = commutator_defect(model.double(), data, K=3, generator=gen())
    assert torch.allclose(d64.authors, d64.exact, rtol=1e-8)
    assert torch.allclose(d32.exact.double(), d64.exact, rtol=1e-3)  # the exact formula needs no float64
    assert float(d64.roundoff.max()) < 1e-6


def test_one_call_gives_both_formulas_from_the_same_gradients():
    cfg, model, data = _small()
    model = model.float()
    g = torch.Generator().manual_seed(5)
    idx = tuple(data.train_idx[torch.randint(len(data.train_idx), (3, 16), generator=g)] for _ in range(2))
    ex = commutator_defect(model, data, K=3, batches=idx)
    au = commutator_defect(model, data, K=3, batches=idx, formula="authors")
    assert torch.equal(ex.exact, au.exact) and torch.equal(ex.authors, au.authors)
    assert torch.equal(ex.values, ex.exact) and torch.equal(au.values, au.authors)
    assert torch.equal(au.deltas, au.authors_deltas) and torch.equal(ex.deltas, ex.exact_deltas)
    assert ex.median == ex.median_exact and au.median == au.median_authors
    # the authors' δ is literally θ_AB − θ_BA of float32 parameter vectors
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    assert torch.allclose(
        au.authors_deltas, ex.exact_deltas, atol=8 * float(torch.finfo(torch.float32).eps * theta.abs().max())
    )
    with pytest.raises(ValueError, match="formula"):
        commutator_defect(model, data, K=1, batches=idx, formula="float64")


def _find_spike_step(records, threshold_factor=10, min_defect=20):
    """The authors' onset rule, transcribed from their lead-time script (grok_commutator_analysis)."""
    if len(records) < 3:
        return None
    baseline = max(float(np.median([r["defect_median"] for r in records[:3]])), 0.1)
    for i in range(2, len(records)):
        d = records[i]["defect_median"]
        if d > threshold_factor * baseline and d > min_defect:
            return records[i]["step"]
    return None


@pytest.mark.parametrize(
    "series",
    [
        [0.2, 30.0, 0.3, 0.3, 25.0],  # a spike in the 2nd measurement is never an onset
        [0.05, 0.05, 0.05, 21.0, 50.0],  # baseline floored at 0.1, then D > 20 decides
        [3.0, 2.0, 2.5, 24.0, 26.0, 90.0],  # 10x baseline (25) decides, not the floor
        [1.0, 1.0, 30.0, 30.0],  # the third measurement may be the onset
        [0.1, 50.0],  # fewer than three measurements
        [5.0] * 10,
    ],
)
def test_onset_rule_equals_the_authors_function(series):
    steps = [100 * i for i in range(len(series))]
    ours = G.defect_onset(steps, series)
    theirs = _find_spike_step([{"step": s, "defect_median": d} for s, d in zip(steps, series)])
    assert ours == theirs


def test_defect_summary_separates_pre_and_post_grokking():
    steps = list(range(0, 1000, 100))
    d = [0.2, 0.3, 0.25, 1, 5, 30, 60, 500, 900, 800]
    s = G.defect_summary(steps, d, t_grok=700)
    assert s.baseline == 0.25 and s.peak == 900 and s.peak_pre_grok == 60
    assert s.growth == pytest.approx(3600) and s.growth_pre_grok == pytest.approx(240)
    assert s.onset == 500 and s.lead == 200
    never = G.defect_summary(steps, d, t_grok=None)
    assert never.peak_pre_grok == 900 and never.lead is None


def test_auc_by_step_scores_a_predictor():
    # two grokking runs whose score rises early, two that do not; a tie at step 100
    runs = [([0, 100, 200], [1, 5, 50]), ([0, 100, 200], [1, 4, 40]), ([0, 100, 200], [1, 5, 3]), ([0, 100], [1, 1])]
    res = G.auc_by_step(runs, [True, True, False, False], [0, 100, 200, 50])
    assert [a.step for a in res] == [0, 100, 200, 50]
    assert res[0].auc == 0.5 and res[2].auc == 1.0  # all tied; then perfect separation
    assert res[1].auc == pytest.approx(0.625)  # 5 vs (5, 1) and 4 vs (5, 1): (0.5 + 1 + 0 + 1) / 4
    assert res[3].auc == 0.5 and (res[2].n_pos, res[2].n_neg) == (2, 2)  # step 50 reads the step-0 values
    empty = G.auc_by_step(runs[:2], [True, True], [100])
    assert math.isnan(empty[0].auc) and empty[0].n_neg == 0
    assert G.steps_before(2300, every=500) == [500, 1000, 1500, 2000]
    assert G.onset_indicator([0, 100, 200], 100) == ([0, 100, 200], [0.0, 1.0, 1.0])
    with pytest.raises(ValueError):
        G.auc_by_step(runs, [True], [0])


def test_bases_are_orthonormal_and_live_where_they_should():
    run = gk.train(gk.presets.FAST.replace(max_steps=100, stop_threshold=None), progress=False)
    model = run.model()
    P, offsets = gk.n_params(model), matrix_offsets(model)
    _, attn = run.attention_trajectory()
    B = G.execution_basis(attn, offsets, P)
    assert B.shape == (P, 16) and torch.allclose(B.T @ B, torch.eye(16, dtype=B.dtype), atol=1e-10)
    inside = torch.zeros(P, dtype=torch.bool)
    for off, shape in offsets.values():
        inside[off : off + shape[0] * shape[1]] = True
    assert B[~inside].abs().max() < 1e-12
    W = {k: v for k, v in gk.attention_weights(model).items()}
    L = G.local_svd_basis({k: v.detach() for k, v in W.items()}, offsets, P, k=3)
    assert L.shape == (P, 24) and torch.allclose(L.T @ L, torch.eye(24, dtype=L.dtype), atol=1e-10)
    R = G.random_basis(P, 16, seed=0)
    delta = torch.randn(50, P, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    frac = G.projected_fraction(delta, R)
    assert float(frac.mean()) == pytest.approx(math.sqrt(16 / P), rel=0.2)  # the √(K/P) expectation


def test_onset_rules_sign_test_and_power_law():
    steps = list(range(0, 2000, 100))
    d = [1.0] * 8 + [5, 25, 60, 200] + [300] * 8
    assert G.defect_onset(steps, d) == 900  # > 10x baseline (1.0) and > 20
    assert G.defect_onset(steps, d, factor=3, floor=0, first=0.3, sustain=3) == 800
    assert G.defect_onset(steps, [1.0] * 20) is None
    assert G.lead_time(900, 1500).lead == 600 and G.lead_time(None, 1500).lead is None

    class Tri:  # a tri-task run's inline defect and per-task test accuracy (task 3 never reaches 90%)
        ops, records = ("add", "mul", "x2_y2"), {"defect": {"step": steps, "value": d}}
        series = gk.Run.series
        grok_step = lambda self, threshold, patience: [1500, 1000, None]

    leads = G.task_leads(Tri())
    assert [(r["op"], r["onset"], r["lead"]) for r in leads] == [
        ("add", 900, 600),
        ("mul", 900, 100),
        ("x2_y2", 900, None),
    ]
    assert leads[0]["fraction"] == pytest.approx(0.4) and leads[2]["fraction"] is None
    assert G.sign_test([5, 3, 2, -1]) == (3, 4, pytest.approx(5 / 16))
    x = np.array([1e3, 3e3, 1e4, 3e4])
    fit = G.power_law_fit(x, 0.2 * x**1.3)
    assert fit.exponent == pytest.approx(1.3) and fit.r2 == pytest.approx(1.0) and fit.prefactor == pytest.approx(0.2)


def test_defect_tracker_observes_without_changing_training():
    cfg = gk.presets.FAST.replace(max_steps=60, stop_threshold=None)
    plain = gk.train(cfg, progress=False)
    tracked = gk.train(cfg, [gk.trackers.DefectTracker(every=20, K=3)], progress=False)
    assert tracked.history == plain.history
    steps, values = tracked.series("defect")
    assert steps == [0, 20, 40, 60] and all(v > 0 for v in values)
    for name in ("defect_authors", "defect_roundoff", "defect_grad_norm"):  # both formulas, every measurement
        assert tracked.series(name)[0] == steps and all(v > 0 for v in tracked.series(name)[1])


def test_kicks_move_theta_orthogonally_to_the_basis():
    cfg = gk.presets.FAST.replace(max_steps=40, stop_threshold=None, checkpoint_every=20)
    P = gk.n_params(gk.build_model(cfg))
    B = G.random_basis(P, 4, seed=1)
    base = gk.train(cfg, progress=False)
    kicked = gk.train(cfg, [gk.hooks.Kick(B, alpha=100.0, direction="random", every=20, start=20)], progress=False)
    assert kicked.series("kick_norm")[0] == [20, 40]
    with pytest.raises(ValueError, match="direction"):
        gk.hooks.Kick(B, 1.0, direction="sideways")
    assert kicked.history["train_loss"][0] == base.history["train_loss"][0]
    assert kicked.history["train_loss"][1] != base.history["train_loss"][1]  # evaluated after the kick
    # one kick, by hand: a jump of alpha * 1.5e-3 (random direction), orthogonal to span(B)
    from grokkit.hooks.context import Context
    from grokkit.model import flatten

    model = gk.build_model(cfg)
    ctx = Context(cfg, model, None, gk.data.dataset_for(cfg), torch.device("cpu"))
    ctx.step = 20
    before = flatten(model).double()
    gk.hooks.Kick(B, alpha=100.0, direction="random", every=20, start=20).on_step(ctx)
    jump = flatten(model).double() - before
    assert float(jump.norm()) == pytest.approx(100.0 * 1.5e-3, rel=1e-3)
    assert float((B.T @ jump).norm()) < 1e-5 * float(jump.norm())


def test_lanczos_finds_the_lowest_hessian_eigenvalues_of_a_tiny_model():
    cfg = gk.presets.FAST.replace(d_model=4, n_heads=1, d_ff=4, p=5, train_frac=0.6, n_layers=1)
    torch.manual_seed(0)
    model = gk.build_model(cfg).double().train()
    data = gk.data.dataset_for(cfg)
    hvp, P = G.hvp_fn(model, data, data.train_idx)
    dense = torch.stack([hvp(e) for e in torch.eye(P, dtype=torch.float64)])  # (P, P) Hessian
    assert torch.allclose(dense, dense.T, atol=1e-8)
    exact = torch.linalg.eigvalsh(dense)[:3]
    approx = G.lanczos_lowest(hvp, P, k=3, iters=P)
    assert torch.allclose(approx, exact, atol=1e-6), (approx, exact)
    sub = G.lowest_hessian_eigs(model, data, n_pairs=len(data.train_idx), k=3, iters=P)
    assert torch.allclose(sub, exact, atol=1e-6)


def test_parameter_pca_variants():
    g = torch.Generator().manual_seed(0)
    thetas = torch.randn(40, 200, generator=g, dtype=torch.float64).cumsum(0)  # more dimensions than rows
    delta = thetas[-1] - thetas[0]
    for variant, in_span in (("uncentred", True), ("centred_with_init", True), ("centred_without_init", False)):
        res = G.parameter_pca(thetas, variant)
        V = res.components.T  # (D, r)
        resid = float((delta - V @ (V.T @ delta)).norm() / delta.norm())
        assert (resid < 1e-8) == in_span, (variant, resid)
    with pytest.raises(ValueError, match="variant must be one of"):
        G.parameter_pca(thetas, "centred")
    assert G.subsample(1000, 100)[:2] == [0, 10] and len(G.subsample(1000, 100)) == 100


def test_reconstructions_against_direct_computations():
    g = torch.Generator().manual_seed(0)
    theta0 = {
        "a.weight": torch.randn(6, 4, generator=g),
        "b.weight": torch.randn(3, 4, generator=g),
        "c.weight": torch.randn(5, 2, generator=g),
        "a.bias": torch.randn(6, generator=g),
    }
    final = {k: v + torch.randn(v.shape, generator=g) for k, v in theta0.items()}
    full, e = G.per_matrix_svd(theta0, final, r=10)
    assert e == pytest.approx(1.0) and all(torch.allclose(full[k], final[k], atol=1e-5) for k in final)
    one, e1 = G.per_matrix_svd(theta0, final, r=1)
    U, S, Vh = torch.linalg.svd((final["a.weight"] - theta0["a.weight"]).double())
    assert torch.allclose(
        one["a.weight"].double(), theta0["a.weight"].double() + S[0] * torch.outer(U[:, 0], Vh[0]), atol=1e-5
    )
    assert torch.equal(one["a.bias"], final["a.bias"]) and 0 < e1 < 1
    joint, _ = G.joint_svd(theta0, final, r=1, stacking="input_width")  # a and b share 4 columns: one stack
    D = torch.cat([final[k] - theta0[k] for k in ("a.weight", "b.weight")]).double()
    U, S, Vh = torch.linalg.svd(D)
    rank1 = S[0] * torch.outer(U[:, 0], Vh[0])
    assert torch.allclose(joint["b.weight"].double(), theta0["b.weight"].double() + rank1[6:], atol=1e-5)
    with pytest.raises(ValueError, match="stacking"):
        G.joint_svd(theta0, final, 1, stacking="diagonal")
    t0, t1 = torch.zeros(10), torch.arange(10.0) - 4.5
    pruned = G.magnitude_prune(t0, t1, keep=0.2)
    assert sorted(pruned.nonzero().flatten().tolist()) == [0, 9]
    assert torch.allclose(G.rescale(t0, t1, 0.5), t1 / 2)
    thetas = torch.randn(30, 50, generator=g, dtype=torch.float64).cumsum(0)
    rec, kept = G.pca_reconstruction(thetas, k=29, variant="uncentred")
    assert kept == pytest.approx(1.0) and torch.allclose(rec.double(), thetas[-1], atol=1e-4)
    for v in G.PCA_VARIANTS:  # one PCA for every k: the same numbers as one reconstruction per k
        assert G.pca_energies(thetas, [1, 3, 29], v) == [G.pca_reconstruction(thetas, k, v)[1] for k in (1, 3, 29)]


def test_test_accuracy_of_a_parameter_vector(fast_run):
    model, data = fast_run.model(), fast_run.dataset()
    theta = gk.model.flatten(model)
    assert G.test_accuracy(model, data, theta) == pytest.approx(fast_run.final("test_acc"), abs=1e-6)
    assert G.test_accuracy(model, data, theta * 0)[0] < 0.2  # a zeroed model is at chance


def _fake_run(grok, *, cap=1000, train_end=1.0, test=(0.0, 1.0), ops=("add",), diverged_at=None):
    """A stand-in for a Run: per-task grok steps, where it stopped, its final train and test accuracy
    (`test`: the test-accuracy curve, one value per evaluation), where it diverged."""
    from types import SimpleNamespace

    steps = list(grok) if isinstance(grok, (list, tuple)) else [grok] * len(ops)
    return SimpleNamespace(
        ops=ops,
        grok_step=lambda: steps,
        final=lambda m: [train_end] * len(ops),
        curve=lambda m, t=0: (list(range(len(test))), list(test)),
        info={"final_step": cap},
        config=SimpleNamespace(max_steps=cap),
        diverged_at=diverged_at,
    )


class _FakeGrid:
    """A weight-decay x train-fraction sweep of fake runs: {(wd, frac): [run per seed]}."""

    def __init__(self, cells):
        self.cells = cells
        self.values = {"weight_decay": sorted({w for w, _ in cells}), "train_frac": sorted({f for _, f in cells})}

    def __iter__(self):
        for (w, f), runs in self.cells.items():
            for r in runs:
                yield {"weight_decay": w, "train_frac": f}, r


def test_outcomes_of_a_run():
    assert G.outcome(_fake_run(900)) == "grok"
    assert G.outcome(_fake_run(None, test=(0.0, 0.3))) == "memorise"
    assert G.outcome(_fake_run(None, train_end=0.99, test=(0.0, 0.7))) == "late"
    assert G.outcome(_fake_run(None, train_end=0.6, test=(0.0, 0.9))) == "unstable"
    assert G.outcome(_fake_run([900, None], ops=("add", "mul"), test=(0.0, 0.7))) == "late"  # one task short
    assert G.outcome(_fake_run(None, train_end=float("nan"), diverged_at=300)) == "diverged"


def test_a_run_stopped_while_still_rising_is_undecided():
    rising = (0.0, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)  # last quarter 0.55, the one before 0.35
    flat = (0.0, 0.3, 0.4, 0.4, 0.41, 0.40, 0.41, 0.41)  # 0.41 vs 0.405: within RISING
    assert G.still_rising(_fake_run(None, test=rising)) and not G.still_rising(_fake_run(None, test=flat))
    assert not G.still_rising(_fake_run(900, test=rising))  # it grokked: nothing is undecided
    assert not G.still_rising(_fake_run(None, test=rising, diverged_at=500))
    assert not G.still_rising(_fake_run(None, test=(0.0, 0.5, 0.9)))  # too few evaluations for two quarters


def test_boundary_counts_say_whether_a_grid_shows_its_boundary():
    rising, flat = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), (0.0,) * 8
    grid = _FakeGrid(
        {
            (0.1, 0.3): [_fake_run(None, test=flat)],  # no grok
            (1.0, 0.3): [_fake_run(None, test=rising)],  # undecided
            (0.1, 0.5): [_fake_run(None, test=flat)],  # no grok
            (1.0, 0.5): [_fake_run(400)],  # grok: this row shows the boundary
            (0.1, 0.7): [_fake_run(900)],
            (1.0, 0.7): [_fake_run(300), _fake_run(None, test=rising), _fake_run(500)],  # median reached
        }
    )
    states = G.cell_states(grid)
    assert states[(1.0, 0.3)] == "undecided" and states[(0.1, 0.3)] == "no grok" and states[(1.0, 0.7)] == "grok"
    counts = G.boundary_counts(grid)
    assert counts == {
        "rows": 3,
        "rows_with_both": 1,
        "cells": 6,
        "grok": 3,
        "no_grok": 2,
        "undecided": 1,
        "undecided_share": 1 / 6,
    }


def test_grok_table_is_the_kaplan_meier_median_with_censoring():
    grid = _FakeGrid(
        {
            (0.1, 0.5): [_fake_run(100), _fake_run(None, cap=5000), _fake_run(None, cap=5000)],  # 1 of 3
            (1.0, 0.5): [_fake_run(100), _fake_run(200), _fake_run(None, cap=5000)],  # 2 of 3
            (0.1, 0.7): [_fake_run(300), _fake_run(None, cap=200), _fake_run(None, cap=200)],  # early caps
            (1.0, 0.7): [_fake_run([100, 400], ops=("add", "mul")), _fake_run(500), _fake_run(300)],
        }
    )
    assert G.grok_cells(grid)[(1.0, 0.7)] == [400, 500, 300]  # all tasks: the slowest
    assert G.cell_caps(grid)[(0.1, 0.7)] == [1000, 200, 200]
    # one of three grokked: the old "median of those that grokked" said 100; the median is not reached.
    # two of three: survival 2/3 after 100, 1/3 after 200, so the median is 200 (not 150).
    # censored at 200 before the one event at 300: the estimate cannot sit below 300.
    assert G.grok_table(grid) == [[None, 200], [300, 400]]
    assert G.boundary(grid) == {0.5: None, 0.7: 1.0}
    assert G.run_cap(_fake_run(None, cap=777)) == 777


def test_run_cap_falls_back_to_the_budget():
    from types import SimpleNamespace

    run = SimpleNamespace(info={}, config=SimpleNamespace(max_steps=1234))
    assert G.run_cap(run) == 1234


# --- per-run cohort measurements (grokkit.geometry.cohort, Chapter 2) -------------------------------


def _cohort_run(op, seed, wd, t90, exact, authors, *, lr=1e-3, key=None, final_step=900):
    """A stand-in run with an inline defect every 100 steps and a t90 (None: never)."""
    from types import SimpleNamespace

    steps = [100 * i for i in range(len(exact))]
    series = {
        "defect": (steps, exact),
        "defect_authors": (steps, authors),
        "defect_grad_norm": (steps, [1.0 + i for i in range(len(exact))]),
        "defect_roundoff": (steps, [0.01 * i for i in range(len(exact))]),
    }
    cfg = SimpleNamespace(weight_decay=wd, seed=seed, max_steps=5000, lr=lr, key=lambda: key or f"{op}{seed}{wd}{lr}")
    return SimpleNamespace(
        ops=(op,),
        config=cfg,
        info={"final_step": final_step, "key": key or f"{op}{seed}{wd}{lr}"},
        grok_step=lambda threshold=0.98, patience=3: [t90],
        series=lambda name: series[name],
    )


# exact: baseline max(0.1, median(0.2, 0.2, 0.2)) = 0.2, onset at the first D > 2 and > 20 (step 500)
EXACT = [0.2, 0.2, 0.2, 1.0, 5.0, 30.0, 50.0, 40.0, 100.0, 80.0]
# authors': baseline 2, onset at the first D > 20 (step 400)
AUTHORS = [2.0, 2.0, 2.0, 2.0, 25.0, 30.0, 50.0, 40.0, 100.0, 80.0]


def test_defect_cohort_reads_each_run_by_hand():
    grok = _cohort_run("add", 42, 1.0, 700, EXACT, AUTHORS)
    never = _cohort_run("add", 42, 0.0, None, [0.3] * 5 + [9.0] * 5, [3.0] * 10, final_step=800)
    assert (G.run_label(grok), G.run_label(never)) == ("add seed 42", "add wd 0 seed 42")
    c = G.defect_cohort([grok, never])
    assert list(c) == ["add seed 42", "add wd 0 seed 42"]
    g = c["add seed 42"]
    assert {k: g[k] for k in ("op", "weight_decay", "seed", "t90", "cap", "grokked")} == {
        "op": "add",
        "weight_decay": 1.0,
        "seed": 42,
        "t90": 700,
        "cap": 900,
        "grokked": True,
    }
    assert g["onset"] == {"exact": 500, "authors": 400} and g["lead"] == {"exact": 200, "authors": 300}
    assert g["growth"] == {"exact": pytest.approx(500.0), "authors": pytest.approx(50.0)}  # max 100 / baseline
    assert g["growth_pre_grok"] == {"exact": pytest.approx(250.0), "authors": pytest.approx(25.0)}  # steps < 700
    assert g["d0"] == {"exact": 0.2, "authors": 2.0}
    n = c["add wd 0 seed 42"]
    assert n["grokked"] is False and n["t90"] is None and n["cap"] == 800 and n["lead"]["exact"] is None
    assert n["growth"]["exact"] == pytest.approx(30.0) and n["onset"] == {"exact": None, "authors": None}
    st = G.defect_cohort_stats(c)
    assert st["exact"]["leads"] == [200] and st["exact"]["sign_test"][:2] == (1, 1)
    assert st["exact"]["d0_range"] == [0.2, 0.3] and st["authors"]["d0_range"] == [2.0, 3.0]
    assert st["exact"]["growth_grok_min"] == pytest.approx(500.0)
    assert st["exact"]["growth_nongrok_max"] == pytest.approx(30.0)
    assert st["authors"]["growth_pregrok_max"] == pytest.approx(25.0)
    with pytest.raises(ValueError, match="share the label"):
        G.defect_cohort([grok, grok])


def test_defect_table_samples_the_series_and_keeps_the_last_row():
    run = _cohort_run("add", 42, 1.0, 700, [1.0 + i for i in range(30)], [2.0 + i for i in range(30)])
    rows = G.defect_table(run, rows=12)
    assert [r["step"] for r in rows] == [100 * i for i in range(0, 30, 2)] + [2900]
    assert rows[1] == {"step": 200, "exact": 3.0, "authors": 4.0, "grad_norm": 3.0, "roundoff": pytest.approx(0.02)}


def test_lead_points_keep_positive_leads_once_and_fit_a_power_law():
    grok = _cohort_run("add", 42, 1.0, 700, EXACT, AUTHORS, lr=3e-3)
    late = _cohort_run("sub", 42, 1.0, 450, EXACT, AUTHORS)  # exact onset 500 after t90: no positive lead
    never = _cohort_run("mul", 42, 1.0, None, EXACT, AUTHORS)
    pts = G.lead_points([grok, late, never, grok])  # `grok` twice (same key): counted once
    assert pts == {"exact": [[700, 200, 3e-3]], "authors": [[700, 300, 3e-3], [450, 50, 1e-3]]}
    assert G.lead_power_laws(pts)["exact"] is None  # one point: no fit
    fit = G.lead_power_laws({"exact": [[t, 2 * t**1.5, 1e-3] for t in (100, 400, 1600)]})["exact"]
    assert fit.exponent == pytest.approx(1.5) and fit.prefactor == pytest.approx(2.0) and fit.n == 3


def test_exec_random_summary_means_and_standard_errors(monkeypatch):
    import grokkit.geometry.cohort as cohort

    per_op = {
        "add": {"steps": [1, 2, 3], "exact": [1.0, 2.0, 4.0], "authors": [2.0]},
        "sub": {"steps": [], "exact": [], "authors": []},
    }
    monkeypatch.setattr(cohort, "exec_random_by_checkpoint", lambda run, randoms, K, generator: per_op[run])
    out = G.exec_random_summary({"add": "add", "sub": "sub"}, [], K=3, generator=None)
    assert out["n"] == {"add": 3, "sub": 0}
    assert out["mean"]["exact"] == {"add": pytest.approx(7 / 3), "sub": None}
    sd = math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    assert out["se"]["exact"]["add"] == pytest.approx(sd / math.sqrt(3))
    assert out["mean"]["authors"]["add"] == 2.0 and out["se"]["authors"] == {"add": None, "sub": None}


def test_pc1_layer0_by_run_and_its_ranges(fast_run):
    from grokkit.book import pc1_layer0_ranges

    assert fast_run.grokked and fast_run.ops == ("add",)
    attn = fast_run.attention_trajectory()[1]
    want = [100 * G.trajectory_pca(attn[(0, m)]).pc1 for m in ("W_Q", "W_K", "W_V", "W_O")]
    by = G.pc1_layer0_by_run([fast_run], ("add",))
    assert by["nongrokking"] == {} and by["grokking"]["add seed 42"] == pytest.approx(want)
    assert G.pc1_layer0_by_run([fast_run], ("sub",))["nongrokking"]["add seed 42"] == pytest.approx(want)
    assert G.pc1_ranges(by) == {"grokking": [min(want), max(want)], "nongrokking": None}
    assert G.run_pc1_shares(fast_run) == G.pc1_shares(attn)
    wq = attn[(0, "W_Q")]
    assert G.run_pc1_null_z(fast_run) == G.null_z(G.trajectory_pca(wq).pc1, G.random_walk_null(wq))
    assert pc1_layer0_ranges([fast_run], ("add",)) == {
        "pc1_layer0_range_grokking": [min(want), max(want)],
        "pc1_layer0_range_nongrokking": None,
    }


def _few_checkpoints(run, every=17):
    """The run with every `every`-th θ checkpoint only (a fast stand-in for the per-checkpoint loops)."""
    import dataclasses

    s, v = run.trajectory("theta")
    return dataclasses.replace(run, tensors=run.tensors | {"theta": {"step": s[::every], "value": v[::every]}})


def test_rho_min_by_run_uses_each_runs_own_basis(fast_run):
    from types import SimpleNamespace

    run = _few_checkpoints(fast_run)
    skipped = SimpleNamespace(grokked=False, ops=("sub",), config=SimpleNamespace(weight_decay=1.0, seed=1))
    out = G.rho_min_by_run([run, skipped], generator=torch.Generator().manual_seed(5))
    assert list(out) == ["add seed 42"] and out["add seed 42"]["checkpoints"] == 2
    B = G.run_execution_basis(run)
    assert B.shape[1] == 16  # 2 layers x 4 matrices x 2 directions
    rho = G.rho_by_checkpoint(run, B, generator=torch.Generator().manual_seed(5))
    for f in G.FORMULAS:
        assert out["add seed 42"][f] == pytest.approx(min(rho[f]))
        # a 16-dim subspace of R^P leaves ρ ≈ √(1 − 16/P): the commutator is almost all outside it
        assert 0.99 < out["add seed 42"][f] <= 1.0


def test_principal_angles_and_a_basis_from_sparser_snapshots(fast_run):
    P = 50
    A = G.random_basis(P, 4, seed=1)
    R = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))[0]
    assert G.largest_principal_angle(A, A @ R) == pytest.approx(0.0, abs=1e-5)  # the same span, other axes
    other = torch.cat([A[:, :3], G.orthonormal(torch.cat([A, G.random_basis(P, 1, seed=2)], 1))[:, 4:]], 1)
    assert G.largest_principal_angle(A, other) == pytest.approx(90.0)  # one direction orthogonal to A
    with pytest.raises(ValueError, match="one shape"):
        G.largest_principal_angle(A, A[:, :3])
    B = G.run_execution_basis(fast_run)
    assert torch.equal(G.run_execution_basis(fast_run, every=1), B)
    sparse = G.run_execution_basis(fast_run, every=3)  # a third of the snapshots: nearly the same subspace
    assert sparse.shape == B.shape and 0 < G.largest_principal_angle(B, sparse) < 90
    with pytest.raises(ValueError, match="stride"):
        G.run_execution_basis(fast_run, every=0)


def test_subspace_fractions_against_random_subspaces(fast_run):
    run = _few_checkpoints(fast_run)
    P = gk.n_params(run.model())
    B = G.run_execution_basis(run)
    randoms = {16: [G.random_basis(P, 16, seed=i) for i in range(2)]}
    fr = G.subspace_fractions(run, B, randoms, K=1, generator=torch.Generator().manual_seed(0))
    assert fr["steps"] == run.trajectory("theta")[0].tolist() and len(fr["exec"]) == len(fr["local_svd"]) == 2
    assert all(0 < x <= 1 for x in fr["exec"] + fr["local_svd"])
    # a random 16-dim subspace captures about √(16/P) of any vector
    assert all(0.4 < x / G.random_fraction(16, P) < 2.5 for x in fr["random"][16])
    assert fr["exec_over_random"] == pytest.approx(np.mean([a / b for a, b in zip(fr["exec"], fr["random"][16])]))
    for f in G.FORMULAS:  # ρ of one sample per checkpoint: almost all of δ lies outside B
        assert len(fr["rho"][f]) == 2 and fr["rho_min"][f] == min(fr["rho"][f]) and 0.99 < fr["rho_min"][f] <= 1
    # K = 1: the first (only) sample's ρ and its projected fraction are the two legs of one right triangle
    assert fr["rho"]["exact"][0] ** 2 + fr["exec"][0] ** 2 == pytest.approx(1.0)
    one = _few_checkpoints(run, every=100)  # no random basis of B's dimension: no ratio
    assert G.subspace_fractions(one, B, {24: randoms[16]}, K=1, generator=None)["exec_over_random"] is None
    assert G.random_fraction(16, 290_401) == pytest.approx(0.0074, abs=1e-4)
    assert G.random_rho(16, P) ** 2 + G.random_fraction(16, P) ** 2 == pytest.approx(1.0)


def test_peak_roundoff_is_the_estimate_over_the_authors_peak():
    from grokkit.geometry.cohort import _peak_roundoff

    class Stub:
        def __init__(self, records):
            self.records = records

        def series(self, name):
            return self.records[name]

    series = {"defect_authors": ([0, 100, 200], [2.0, 50.0, 8.0]), "defect_roundoff": ([0, 100, 200], [3.0, 5.0, 9.0])}
    assert _peak_roundoff(Stub(series)) == 0.1  # 5 at the peak (step 100) over the peak's 50: curvature
    series["defect_roundoff"] = ([0, 100, 200], [3.0, 500.0, 9.0])
    assert _peak_roundoff(Stub(series)) == 10.0  # rounding ten times the value: the peak is round-off
    assert _peak_roundoff(Stub({"defect_authors": series["defect_authors"]})) is None  # not recorded


def test_a_run_at_a_shorter_budget(fast_run):
    """at_budget: the run as a shorter budget would have left it (scans train once, at their longest budget)."""
    t = fast_run.grok_step()[0]
    assert G.at_budget(fast_run, 10**9).grok_step() == fast_run.grok_step()
    short = G.at_budget(fast_run, t - 1)
    assert short.grok_step() == [None] and G.run_cap(short) == t - 1 and max(short.steps) <= t - 1
    assert G.outcome(short) != "grok" and G.outcome(G.at_budget(fast_run, t)) == "grok"
    assert short.final("test_acc") == fast_run.history["test_acc"][len(short.steps) - 1]


def test_chapter1_default_grid_is_the_measured_choice():
    """Chapter 1's default phase grid is the setting benchmarks/phase_scan.py chose
    (results/benchmarks/phase_scan.json), and that choice meets the bar it was chosen by."""
    scan = json.loads((ROOT / "results" / "benchmarks" / "phase_scan.json").read_text())
    chosen, S = scan["chosen"], gk.book.chapter1("default")
    assert chosen["rows_with_both"] >= 3 and chosen["undecided_share"] <= 0.25
    assert S.grid_base == gk.Config.from_dict(scan["base"]).replace(lr=chosen["lr"], max_steps=chosen["budget"])
    assert (S.weight_decays, S.train_fracs) == (scan["weight_decays"], scan["train_fracs"])
    said = gk.book.grid_choice(S)
    assert f"budget ({chosen['budget']:,} steps)" in said and f"{chosen['undecided']} undecided cells" in said
    assert gk.book.grid_choice(gk.book.chapter1("smoke")) == ""  # not the scan's grid: nothing to say


def test_chapter1_default_build_shows_the_boundary():
    """The default build's stored grid (results/chapters/default/01_grokking.json, what the chapter's explorer
    shows) meets the bar, and its counts are those of its own stored grok steps and of the scan's choice."""
    blob = json.loads((ROOT / "results" / "chapters" / "default" / "01_grokking.json").read_text())
    counts, steps = blob["metrics"]["grid_boundary_counts"], blob["metrics"]["grid_grok_steps"]
    assert G.shows_boundary(counts) and counts["cells"] == sum(map(len, steps))
    assert counts["grok"] == sum(t is not None for row in steps for t in row)
    chosen = json.loads((ROOT / "results" / "benchmarks" / "phase_scan.json").read_text())["chosen"]
    assert {k: counts[k] for k in ("rows_with_both", "grok", "undecided")} == {
        k: chosen[k] for k in ("rows_with_both", "grok", "undecided")
    }
