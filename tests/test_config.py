import dataclasses

import pytest

import grokkit as gk
from grokkit.config import Config, scale


def test_defaults_are_the_papers_settings():
    c = Config()
    assert (c.ops, c.p, c.train_frac) == (("add",), 97, 0.5)
    assert (c.d_model, c.n_heads, c.d_ff, c.n_layers) == (128, 4, 256, 2)
    assert (c.lr, c.betas, c.weight_decay, c.grad_clip, c.batch_size) == (1e-3, (0.9, 0.98), 1.0, 1.0, 512)
    assert (c.eval_every, c.stop_threshold, c.stop_patience, c.seed) == (100, 0.98, 3, 42)
    assert (c.snapshot_every, c.checkpoint_every) == (100, 200)


def test_configs_are_frozen_and_replace_makes_variants():
    c = gk.presets.SINGLE_TASK
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.weight_decay = 0.0
    v = c.replace(weight_decay=0.0)
    assert v.weight_decay == 0.0 and c.weight_decay == 1.0
    assert dataclasses.replace(c, seed=137).seed == 137


def test_key_tracks_results_not_runtime_fields():
    c = Config()
    assert c.key() == Config().key()
    assert c.key() != c.replace(weight_decay=0.5).key()
    assert c.key() == c.replace(device="cpu").key()  # where it runs does not change what it is
    assert c.key() != c.key("project(s=1)")


def test_round_trip_through_dict():
    c = gk.presets.tri(weight_decay=0.3)
    assert Config.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown config fields"):
        Config.from_dict({**c.to_dict(), "bogus": 1})


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(n_heads=3), "divisible"),
        (dict(precision="fp16"), "precision"),
        (dict(device="tpu"), "device"),
        (dict(readout=2), "readout"),
        (dict(checkpoint_every=150), "multiple of eval_every"),
        (dict(ops=("div",)), "choose from"),
    ],
)
def test_bad_values_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        Config(**bad)


def test_presets():
    assert gk.presets.DUAL_TASK.ops == ("add", "mul") and gk.presets.TRI_TASK.ops == ("add", "mul", "x2_y2")
    assert gk.presets.single("mul").ops == ("mul",)
    assert scale("2.2M").d_model == 256 and scale("2.2M").n_layers == 4
    with pytest.raises(ValueError, match="choose one of"):
        scale("7B")


def test_an_intervention_keys_the_cache_by_its_basis_bytes():
    """A sign-flipped or permuted basis has the same L1 sum as the original but is another experiment:
    it must get another cache key (it once shared one and would have loaded the wrong run)."""
    import torch

    from grokkit.hooks.base import GradientProjection, Kick, hooks_key

    B = torch.linalg.qr(torch.randn(40, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    variants = [B, -B, B[torch.randperm(40, generator=torch.Generator().manual_seed(1))], B.clone()]
    for make in (lambda b: GradientProjection(b, 0.5), lambda b: Kick(b, 1.0)):
        keys = [hooks_key([make(b)]) for b in variants]
        assert len(set(keys[:3])) == 3 and keys[3] == keys[0]
        assert Config().key(keys[0]) != Config().key(keys[1])
