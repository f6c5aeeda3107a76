"""A plain reference model: the same function and the same state_dict keys as `grokkit.model`.

`grokkit.model.Transformer` is fast because of two exact savings (block 0 computed on the table of
(token, position) pairs; the last block only at the read-out position) and a two-key sigmoid form
of attention. This module writes the same network the obvious way — every block at every position,
softmax over an explicit score matrix — so a reader can check the fast model against it:

    ref = Reference.from_config(run.config)
    ref.load_state_dict(run.weights)      # the same keys: embed, pos, blocks.i.attn..., ln_f, heads.j
    torch.allclose(ref(tokens), run.model()(tokens), atol=1e-5)

It is for reading and testing, not for training (it has no initialisation of its own: load weights).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from grokkit.model import make_norm

__all__ = ["Reference"]


class _Attention(nn.Module):
    def __init__(self, d: int, n_heads: int, bias: bool, qk_norm: str):
        super().__init__()
        self.n_heads, self.qk_norm = n_heads, qk_norm
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * d, d))  # rows: W_Q; W_K; W_V
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d)) if bias else None
        self.out_proj = nn.Linear(d, d, bias=bias)  # W_O
        if qk_norm == "rms":
            self.q_norm, self.k_norm = nn.RMSNorm(d), nn.RMSNorm(d)

    def forward(self, x):  # (B, T, d) -> (B, T, d); no mask
        B, T, d = x.shape
        H, dh = self.n_heads, d // self.n_heads
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).split(d, dim=-1)
        if self.qk_norm == "rms":
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in (q, k, v))  # (B, H, T, dh)
        if self.qk_norm == "l2":
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        weights = (q @ k.transpose(-1, -2) / math.sqrt(dh)).softmax(dim=-1)  # (B, H, T, T)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(B, T, d))


class _MLP(nn.Module):
    def __init__(self, d: int, d_ff: int, kind: str, bias: bool):
        super().__init__()
        self.kind = kind
        self.linear1, self.linear2 = nn.Linear(d, d_ff, bias=bias), nn.Linear(d_ff, d, bias=bias)
        if kind == "swiglu":
            self.gate = nn.Linear(d, d_ff, bias=bias)

    def forward(self, x):
        h = self.linear1(x)
        h = F.gelu(h) if self.kind == "gelu" else F.silu(h) if self.kind == "silu" else F.silu(self.gate(x)) * h
        return self.linear2(h)


class _Block(nn.Module):
    def __init__(self, d, n_heads, d_ff, norm, mlp, bias, qk_norm):
        super().__init__()
        self.attn, self.mlp = _Attention(d, n_heads, bias, qk_norm), _MLP(d, d_ff, mlp, bias)
        self.ln1, self.ln2 = make_norm(norm, d), make_norm(norm, d)

    def forward(self, x):  # pre-norm residual block
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Reference(nn.Module):
    """forward(tokens (B, T)) -> logits (n_tasks, B, p), like grokkit.model.Transformer."""

    def __init__(
        self,
        vocab,
        n_classes,
        n_tasks=1,
        seq_len=2,
        d_model=128,
        n_heads=4,
        d_ff=256,
        n_layers=2,
        readout=0,
        norm="layernorm",
        mlp="gelu",
        bias=True,
        qk_norm="none",
    ):
        super().__init__()
        self.readout = readout
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(seq_len, d_model))
        self.blocks = nn.ModuleList([_Block(d_model, n_heads, d_ff, norm, mlp, bias, qk_norm) for _ in range(n_layers)])
        self.ln_f = make_norm(norm, d_model)
        self.heads = nn.ModuleList([nn.Linear(d_model, n_classes, bias=bias) for _ in range(n_tasks)])

    @classmethod
    def from_config(cls, cfg) -> Reference:
        return cls(
            cfg.vocab,
            cfg.p,
            cfg.n_tasks,
            cfg.seq_len,
            cfg.d_model,
            cfg.n_heads,
            cfg.d_ff,
            cfg.n_layers,
            cfg.readout,
            cfg.norm,
            cfg.mlp,
            cfg.bias,
            cfg.qk_norm,
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos  # (B, T, d)
        for block in self.blocks:
            x = block(x)
        h = self.ln_f(x[:, self.readout])  # the read-out position
        return torch.stack([head(h) for head in self.heads])
