"""Progress measures (Nanda et al. 2023) on constructed networks whose answers are known, and the
tracker hook against the post-hoc measurement on a real run."""

import math

import pytest
import torch
import torch.nn as nn

import grokkit as gk
from grokkit import geometry as G

P, KEYS = 23, (3, 7, 10)


class FourierNet(nn.Module):
    """The grokked algorithm written out: embed a as cos/sin(w_k a), logits α Σ_k cos(w_k(a ± b − c))."""

    def __init__(self, p=P, keys=KEYS, alpha=8.0, sign=1):
        super().__init__()
        a = torch.arange(p, dtype=torch.float64)
        w = 2 * math.pi * torch.tensor(keys, dtype=torch.float64) / p
        self.embed = nn.Embedding(p, 2 * len(keys))
        self.embed.weight.data = torch.cat([torch.cos(a[:, None] * w), torch.sin(a[:, None] * w)], 1).float()
        self.w, self.alpha, self.sign, self.p = w, alpha, sign, p

    def forward(self, tokens):
        s = (tokens[:, 0] + self.sign * tokens[:, 1]).double()
        c = torch.arange(self.p, dtype=torch.float64)
        phase = (s[:, None, None] - c[None, :, None]) * self.w  # (B, p, K)
        return (self.alpha * torch.cos(phase).sum(-1))[None].float()


class LookupNet(nn.Module):
    """A memoriser: a large logit on the right answer of every TRAIN pair, noise everywhere else."""

    def __init__(self, data):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        table = torch.randn(data.p * data.p, data.p, generator=g)
        table[data.train_idx, data.labels[data.train_idx, 0]] += 12.0
        self.table = nn.Parameter(table)
        self.p = data.p

    def forward(self, tokens):
        return self.table[tokens[:, 0] * self.p + tokens[:, 1]][None]


@pytest.mark.parametrize("op,sign", [("add", 1), ("sub", -1)])
def test_the_fourier_algorithm_is_all_restricted_and_nothing_excluded(op, sign):
    data = gk.make_dataset(op, p=P, train_frac=0.5)
    net = FourierNet(sign=sign)
    m = G.progress_measures(net, data)
    assert set(m.key_freqs) == set(KEYS)  # equal power in exactly these frequencies
    assert m.restricted_loss == pytest.approx(m.train_loss, abs=1e-5)  # the logits ARE the key directions
    assert m.excluded_loss == pytest.approx(math.log(P), abs=1e-5)  # nothing left: uniform logits
    assert m.fourier_concentration == pytest.approx(1.0, abs=1e-6)
    assert m.train_loss < 0.05
    assert torch.equal(G.answer_table(net, data), torch.ones(P, P, dtype=torch.bool))


def test_a_lookup_table_is_all_excluded():
    data = gk.make_dataset("add", p=P, train_frac=0.5)
    m = G.progress_measures(LookupNet(data), data, key_freqs=KEYS)
    assert m.train_loss < 1e-3 and m.excluded_loss < 0.01  # memory fits train without the key directions
    # the memorised indicator 1[c = a + b] spreads evenly over all 11 frequencies (3 of them are keys)
    # and half the pairs: the key directions alone keep only a small part of it
    assert m.restricted_loss > 0.5 * math.log(P) and m.restricted_loss > 1000 * m.train_loss
    assert m.fourier_concentration < 0.15
    table = G.answer_table(LookupNet(data), data)
    assert torch.equal(table | ~G.train_table(data), torch.ones(P, P, dtype=torch.bool))  # train all right


def test_a_mixture_moves_the_measures_the_way_grokking_does():
    """Adding more of the algorithm to a memoriser lowers restricted loss and raises excluded loss."""
    data = gk.make_dataset("add", p=P, train_frac=0.5)
    look, four = LookupNet(data), FourierNet()
    L_look, L_four = G.all_logits(look, data), G.all_logits(four, data)
    rs, es = [], []
    for t in (0.0, 0.3, 0.6, 1.0):
        L = (1 - t) * L_look + t * L_four
        rs.append(G.restricted_loss(L, data, KEYS))
        es.append(G.excluded_loss(L, data, KEYS))
    assert rs == sorted(rs, reverse=True) and es == sorted(es)


def test_clock_of_the_fourier_embedding_is_a_circle():
    net = FourierNet()
    for k in KEYS:
        xy = G.embedding_clock(net.embed.weight.detach(), k)
        assert torch.allclose(xy.norm(dim=1), torch.ones(P, dtype=torch.float64), atol=1e-5)
        ang = torch.atan2(xy[:, 1], xy[:, 0])  # consecutive tokens turn by ±2πk/p
        step = torch.remainder(ang[1:] - ang[:-1], 2 * math.pi)
        want = 2 * math.pi * k / P
        assert torch.allclose(step, torch.full_like(step, want), atol=1e-4) or torch.allclose(
            step, torch.full_like(step, 2 * math.pi - want), atol=1e-4
        )
    with pytest.raises(ValueError, match="frequency k"):
        G.embedding_clock(net.embed.weight, P)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="a ± b"):
        G.progress_measures(FourierNet(), gk.make_dataset("mul", p=P, train_frac=0.5))
    data = gk.make_dataset("add", p=P, train_frac=0.5)
    with pytest.raises(ValueError, match="1..11"):
        G.key_directions(data, [12])
    with pytest.raises(ValueError, match="direction"):
        G.departure_step([0, 1], [1, 1], 0, "sideways")


def test_departure_step():
    steps = list(range(0, 1100, 100))
    falling = [5, 4.0, 4.1, 3.9, 3.95, 3.0, 2.0, 1.0, 0.5, 0.4, 0.3]
    assert G.departure_step(steps, falling, start=100, direction="down") == 500  # level 4.0; < 3.2 from 500 on
    rising = [1, 0.2, 0.21, 0.19, 0.30, 0.22, 0.5, 0.9, 1.2, 0.3, 0.1]
    assert G.departure_step(steps, rising, start=100, direction="up", until=800) == 600  # 400 falls back
    assert G.departure_step(steps, rising, start=100, direction="up") is None  # falls back after 800
    assert G.departure_step(steps[:3], falling[:3], start=100, direction="down") is None


def test_tracker_records_what_the_checkpoints_give():
    cfg = gk.presets.FAST.replace(max_steps=200, stop_threshold=None)
    data = gk.make_dataset(cfg.ops, cfg.p, cfg.train_frac, cfg.split_seed)
    keys = (4, 9, 13)
    run = gk.train(cfg, [gk.trackers.ProgressMeasureTracker(keys, every=2)], progress=False)
    steps, restricted = run.series("progress/restricted_loss")
    assert steps == list(range(0, 201, 40))  # every 2nd evaluation (eval_every = 20), step 0 included
    assert run.series("progress/key_freqs")[1][0] == list(keys)
    post = G.progress_over(run, keys)
    assert post["step"] == steps and post["key_freqs"] == keys
    for name in ("restricted_loss", "excluded_loss", "train_loss", "fourier_concentration", "weight_norm"):
        assert run.series(f"progress/{name}")[1] == pytest.approx(post[name], rel=1e-5, abs=1e-6), name
    assert data.p == cfg.p
    own = gk.train(cfg.replace(max_steps=40), [gk.trackers.ProgressMeasureTracker()], progress=False)
    assert all(1 <= len(k) <= cfg.p // 2 for k in own.series("progress/key_freqs")[1])
    with pytest.raises(ValueError, match="every"):
        gk.trackers.ProgressMeasureTracker(every=0)
