import math

import pytest
import torch
import torch.nn.functional as F
from plain import PlainTransformer

import grokkit as gk
from grokkit.model import Attention, attention_weights, flatten, matrix_offsets, unflatten


@pytest.mark.parametrize(
    "cfg, count",
    [
        (gk.presets.SINGLE_TASK, 290_401),
        (gk.presets.DUAL_TASK, 302_914),
        (gk.presets.TRI_TASK, 315_427),
        (gk.presets.scale("2.2M"), 2_209_059),
        (gk.presets.scale("1.2M"), 1_154_851),
    ],
)
def test_parameter_counts_match_the_papers(cfg, count):
    assert gk.n_params(gk.build_model(cfg)) == count


def _pair():
    torch.manual_seed(42)
    ref = PlainTransformer()
    torch.manual_seed(42)
    ours = gk.build_model(gk.presets.SINGLE_TASK)
    return ref, ours


def test_same_seed_draws_the_authors_initial_weights():
    ref, ours = _pair()
    theirs = list(ref.state_dict().values())
    assert len(theirs) == len(list(ours.parameters()))
    for (name, p), q in zip(ours.named_parameters(), theirs):
        assert torch.equal(p, q), name
    # nn.TransformerEncoder deep-copies its layer: both blocks start identical
    assert torch.equal(ours.blocks[0].attn.in_proj_weight, ours.blocks[1].attn.in_proj_weight)


@pytest.mark.parametrize("batch", [40, 600])  # below the vocabulary: direct path; above: table path
def test_fast_forward_computes_the_plain_function(batch):
    ref, ours = _pair()
    for p in ours.parameters():  # move away from the tied initialisation so every path is exercised
        p.data.add_(0.05 * torch.randn_like(p))
    ref.load_state_dict(dict(zip(ref.state_dict(), [p.detach() for p in ours.parameters()])))
    x = torch.randint(0, 97, (batch, 2), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expect = ref.train()(x[:, 0], x[:, 1])
        got = ours(x)[0]
    assert torch.allclose(got, expect, atol=2e-5, rtol=1e-4), (got - expect).abs().max()
    # gradients agree too
    ref.zero_grad(), ours.zero_grad()
    F.cross_entropy(ref(x[:, 0], x[:, 1]), x.sum(1) % 97).backward()
    F.cross_entropy(ours(x)[0], x.sum(1) % 97).backward()
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-5, rtol=1e-3), name


@pytest.mark.parametrize("T", [2, 3])
def test_attention_matches_scaled_dot_product_attention(T):
    attn = Attention(32, 4)
    q, k, v = (torch.randn(5, T, 32) for _ in range(3))
    ref = F.scaled_dot_product_attention(*(t.view(5, T, 4, 8).transpose(1, 2) for t in (q, k, v)))
    ref = attn.out_proj(ref.transpose(1, 2).reshape(5, T, 32))
    assert torch.allclose(attn(q, k, v), ref, atol=1e-5)


@pytest.mark.parametrize("equals_token", [False, True])
def test_readout_shortcut_and_table_path_agree(equals_token):
    cfg = gk.presets.FAST.replace(readout=-1, equals_token=equals_token)
    torch.manual_seed(0)
    m = gk.build_model(cfg)
    x = gk.make_dataset("add", p=31, equals_token=equals_token).inputs  # 961 > vocab: table path
    with torch.no_grad():
        full = m(x)
        chunks = torch.cat([m(x[i : i + 20]) for i in range(0, len(x), 20)], 1)  # direct path
    assert torch.allclose(full, chunks, atol=1e-5)
    with torch.no_grad():
        other = gk.build_model(cfg.replace(readout=0))
        other.load_state_dict(m.state_dict())
        assert not torch.allclose(other(x), full)


def test_attention_weights_by_name_are_views_of_the_fused_projection():
    m = gk.build_model(gk.presets.SINGLE_TASK)
    w = attention_weights(m)
    assert sorted(w) == sorted((l, n) for l in (0, 1) for n in ("W_Q", "W_K", "W_V", "W_O"))
    assert all(t.shape == (128, 128) for t in w.values())
    fused = m.blocks[1].attn.in_proj_weight
    assert torch.equal(torch.cat([w[(1, "W_Q")], w[(1, "W_K")], w[(1, "W_V")]]), fused)
    with torch.no_grad():
        w[(1, "W_K")][0, 0] = 123.0
    assert fused[128, 0] == 123.0


def test_theta_layout():
    m = gk.build_model(gk.presets.FAST)
    theta = flatten(m)
    assert theta.numel() == gk.n_params(m)
    for (layer, name), (offset, shape) in matrix_offsets(m).items():
        assert torch.equal(theta[offset : offset + math.prod(shape)].view(shape), attention_weights(m)[(layer, name)])
    back = unflatten(theta, m)
    assert all(torch.equal(back[n], p) for n, p in m.named_parameters())


@pytest.mark.parametrize(
    "preset,changes",
    [
        ("fast", {}),
        ("single", {}),
        ("dual", {}),
        ("lrd", {}),
        ("lrd", {"qk_norm": "l2"}),
        ("fast", {"mlp": "swiglu", "n_layers": 3}),
    ],
)
def test_reference_model_has_the_same_keys_and_function(preset, changes):
    """grokkit.reference writes the network the obvious way; the fast model must compute the same logits."""
    import grokkit as gk
    from grokkit.reference import Reference

    cfg = gk.presets.PRESETS[preset].replace(**changes)
    torch.manual_seed(0)
    fast = gk.build_model(cfg)
    for p in fast.parameters():  # away from the tied initialisation, so every block differs
        p.data.add_(0.05 * torch.randn_like(p))
    ref = Reference.from_config(cfg)
    ref.load_state_dict(fast.state_dict())  # strict: the same keys
    for batch in (40, 600):  # below and above the vocabulary (the fast model's two block-0 paths)
        x = torch.randint(0, cfg.vocab, (batch, cfg.seq_len), generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            assert torch.allclose(fast(x), ref(x), atol=3e-5, rtol=1e-4), (fast(x) - ref(x)).abs().max()
