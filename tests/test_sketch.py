"""The attention sketch (grokkit.geometry.sketch, grokkit.hooks.base.AttentionSketch): the execution basis of a run
too long to keep its snapshots, exact while nothing is let go, within its stated bound otherwise, and the same
whether or not the run was interrupted."""

import math

import pytest
import torch
from test_train import Interrupt

import grokkit as gk
from grokkit import geometry as G
from grokkit.geometry.sketch import FrequentDirections
from grokkit.hooks.base import AttentionSketch

RUN = gk.presets.FAST.replace(max_steps=200, snapshot_every=20, checkpoint_every=0, stop_threshold=None)


def _trajectory(n=40, dim=300, rank=3, noise=1e-3, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, n, dtype=torch.float64)[:, None]
    coeffs = torch.cat([t, t**2, torch.sin(3 * t)], 1)[:, :rank] * torch.tensor([5.0, 2.0, 0.7])[:rank]
    dirs = torch.linalg.qr(torch.randn(dim, rank, dtype=torch.float64, generator=g))[0].T
    return coeffs @ dirs + noise * torch.randn(n, dim, dtype=torch.float64, generator=g)


def _angle(a, b):  # largest principal angle between the row spans, degrees
    return G.largest_principal_angle(torch.linalg.qr(a.T)[0], torch.linalg.qr(b.T)[0])


def test_the_sketch_is_the_centred_pca_while_it_lets_nothing_go():
    X = _trajectory()
    fd = FrequentDirections(X.shape[1], rows=len(X))
    for x in X:
        fd.update(x - X[0])  # deviations from the first row, as the hook folds them in
    top, exact = fd.top(2), G.trajectory_pca(X, centred=True)
    assert top.shrink == 0.0 and top.sin_bound == 0.0
    assert _angle(top.components, exact.components[:2]) < 1e-3  # float32 rows: the same directions
    assert torch.allclose(top.eigenvalues, exact.singular_values[:2] ** 2, rtol=1e-5)  # the centred covariance's


def test_a_smaller_sketch_stays_within_its_bound():
    X = _trajectory(n=120)
    D = X - X[0]
    fd = FrequentDirections(X.shape[1], rows=8)
    for d in D:
        fd.update(d)
    top = fd.top(2)
    s = torch.linalg.svdvals(D)
    for k in range(1, 8):  # the guarantee: Δ ≤ ‖D − D_k‖²_F / (rows − k)
        assert top.shrink <= float((s[k:] ** 2).sum()) / (8 - k) * (1 + 1e-6)
    exact = G.trajectory_pca(X, centred=True).components[:2]
    assert 0 < top.shrink and 0 < top.sin_bound < 1
    assert math.sin(math.radians(_angle(top.components, exact))) <= top.sin_bound
    with pytest.raises(ValueError, match="2 rows"):
        FrequentDirections(10, rows=1)


def test_a_sketch_saved_and_restored_goes_on_as_one_that_never_stopped():
    X = _trajectory(n=30)
    whole, half = FrequentDirections(X.shape[1], 6), FrequentDirections(X.shape[1], 6)
    for x in X:
        whole.update(x)
    for x in X[:13]:
        half.update(x)
    again = FrequentDirections.from_state({k: v for k, v in half.state_dict().items()})
    for x in X[13:]:
        again.update(x)
    assert torch.equal(again.B, whole.B) and torch.equal(again.sum, whole.sum) and again.shrink == whole.shrink


def test_the_hook_gives_the_execution_basis_of_the_snapshots_and_resumes_exactly(tmp_path):
    run = gk.train(RUN, [AttentionSketch(20, rows=32)], progress=False)  # 11 snapshots: nothing let go
    B, info = G.sketch_execution_basis(run)
    exact = G.run_execution_basis(run)
    assert B.shape == exact.shape and G.largest_principal_angle(B, exact) < 0.05
    assert all(v["snapshots"] == 11 and v["shrink"] == 0 for v in info.values())
    small = gk.train(RUN, [AttentionSketch(20, rows=4)], progress=False)  # the same weights, a 4-row sketch
    B4, info4 = G.sketch_execution_basis(small)
    same, again = G.sketch_execution_basis(run, rows=4)  # the kept snapshots folded into 4 rows: what the hook holds
    assert G.largest_principal_angle(same, B4) < 1e-4  # up to the last bits of eigh on another thread count
    assert all(again[k]["shrink"] == pytest.approx(v["shrink"], rel=1e-9) for k, v in info4.items())
    assert all(v["shrink"] > 0 for v in info4.values())
    snaps = small.attention_trajectory()[1]
    checked = 0
    for key, v in info4.items():  # each matrix's top 2 directions within the bound it states
        part = lambda p: small.tensors[f"attn_sketch/{key}.{p}"]["value"][-1]
        filled, n, shrink = part("meta").tolist()
        state = {"B": part("rows"), "filled": int(filled), "n": int(n), "sum": part("sum"), "shrink": shrink}
        top = FrequentDirections.from_state(state).top(2)
        layer, mat = key[1:].split(".")
        angle = _angle(top.components, G.trajectory_pca(snaps[(int(layer), mat)]).components[:2])
        assert top.sin_bound == v["sin_bound"] and math.sin(math.radians(angle)) <= v["sin_bound"]
        checked += v["sin_bound"] < 1
    assert checked >= 4  # the bound says something for most matrices
    with pytest.raises(KeyboardInterrupt):
        stopped = [AttentionSketch(20, rows=4), Interrupt(130)]
        gk.train(RUN, stopped, progress=False, resume_dir=tmp_path, resume_every_s=0)
    resumed = gk.train(RUN, [AttentionSketch(20, rows=4), Interrupt(-1)], progress=False, resume_dir=tmp_path)
    for name, t in small.tensors.items():
        if name.startswith("attn_sketch/"):
            assert torch.equal(resumed.tensors[name]["value"], t["value"]), name
    with pytest.raises(KeyError, match="no attention sketch"):
        G.sketch_execution_basis(gk.train(RUN.replace(max_steps=20), progress=False))
