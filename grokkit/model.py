"""The Xu transformer (papers-spec §1.2), readable top to bottom.

Token + learned positional embedding → n_layers pre-LayerNorm encoder blocks (multi-head attention
with no mask, GELU MLP, no dropout) → final LayerNorm of the read-out position → one linear head per
task. Parameters, their names' roles and their initialisation follow the authors'
`nn.TransformerEncoder` model, so the same seed draws the same initial weights on a CPU:
  * the fused `in_proj_weight` (rows W_Q; W_K; W_V) is Xavier-uniform, its bias and out_proj's bias 0;
  * every block starts as a COPY of the first (`nn.TransformerEncoder` deep-copies its layer), unless
    `tied_init=False`;
  * the positional embedding is N(0, 1)/sqrt(d_model); everything else is PyTorch's default.
Analysis code never slices `in_proj_weight`: `attention_weights(model)` hands out W_Q…W_O by name.

Two exact algebraic savings make the forward pass cheaper without changing the function:
  * block 0 only ever sees vocab × seq_len distinct inputs (a token at a position), so its
    LayerNorm and Q/K/V projections are computed for that table and gathered (when the batch is
    larger than the vocabulary);
  * the last block is evaluated only where the heads read (its query, attention output and MLP at
    the read-out position; keys and values at every position).
"""

from __future__ import annotations

import copy
import math
from typing import cast

import torch
import torch.nn as nn
import torch.nn.functional as F

MATRIX_NAMES = ("W_Q", "W_K", "W_V", "W_O")


def make_norm(kind: str, d: int) -> nn.Module:
    """ "layernorm" (the Xu papers) or "rmsnorm" (learnable gain; the scale-invariant variant)."""
    if kind == "layernorm":
        return nn.LayerNorm(d)
    if kind == "rmsnorm":
        return nn.RMSNorm(d)
    raise ValueError(f"norm must be 'layernorm' or 'rmsnorm', got {kind!r}")


class Attention(nn.Module):
    """Multi-head self-attention with a fused Q/K/V projection, laid out like nn.MultiheadAttention.

    qk_norm (the Low-Rank Decay paper's scale-invariant attention, two published forms):
      "none": plain scaled dot products (Xu papers);
      "l2":   each head's q and k normalised to unit length, no gain (the author's code);
      "rms":  RMSNorm with a learnable gain on the full q and k vectors, before the head split.
    With a QK norm and bias=False, scaling W_Q or W_K by any α > 0 leaves the function unchanged.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True, qk_norm: str = "none"):
        super().__init__()
        if qk_norm not in ("none", "l2", "rms"):
            raise ValueError(f"qk_norm must be 'none', 'l2' or 'rms', got {qk_norm!r}")
        self.d_model, self.n_heads, self.qk_norm = d_model, n_heads, qk_norm
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # rows: W_Q; W_K; W_V
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)  # W_O
        nn.init.xavier_uniform_(self.in_proj_weight)  # same draw order as nn.MultiheadAttention
        if bias:
            nn.init.zeros_(self.out_proj.bias)
        if qk_norm == "rms":
            self.q_norm, self.k_norm = nn.RMSNorm(d_model), nn.RMSNorm(d_model)

    def _bias(self, rows: slice):
        return None if self.in_proj_bias is None else self.in_proj_bias[rows]

    def qkv(self, x):  # (..., d) -> (..., 3d)
        return F.linear(x, self.in_proj_weight, self.in_proj_bias)

    def q(self, x):  # query projection alone
        d = self.d_model
        return F.linear(x, self.in_proj_weight[:d], self._bias(slice(0, d)))

    def kv(self, x):  # key and value projections alone
        d = self.d_model
        return F.linear(x, self.in_proj_weight[d:], self._bias(slice(d, None)))

    def forward(self, q, k, v):
        """q: (B, Tq, d); k, v: (B, T, d) -> (B, Tq, d). No mask: every query sees every position."""
        B, Tq, d = q.shape
        H, dh = self.n_heads, d // self.n_heads
        if self.qk_norm == "rms":
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.view(B, Tq, H, dh)
        if self.qk_norm == "l2":
            q = F.normalize(q, dim=-1)
        if k.shape[1] == 2 and self.qk_norm != "l2":
            # Two keys: softmax(s0, s1) = (sigmoid(s0 - s1), 1 - ...), so one dot product with
            # k0 - k1 replaces the score matrix, and out = v1 + w0 (v0 - v1). Same function, no bmm.
            k, v = k.view(B, 2, 1, H, dh), v.view(B, 2, 1, H, dh)
            w0 = torch.sigmoid((q * (k[:, 0] - k[:, 1])).sum(-1, keepdim=True) / math.sqrt(dh))
            out = v[:, 1] + w0 * (v[:, 0] - v[:, 1])  # (B, Tq, H, dh)
        else:
            k, v = k.view(B, -1, H, dh), v.view(B, -1, H, dh)
            if self.qk_norm == "l2":
                k = F.normalize(k, dim=-1)
            scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)  # (B, H, Tq, T)
            out = torch.einsum("bhqk,bkhd->bqhd", scores.softmax(dim=-1), v)
        return self.out_proj(out.reshape(B, Tq, d))


class MLP(nn.Module):
    """ "gelu" (Xu papers) or "silu": linear2(act(linear1 x)); "swiglu": linear2(silu(gate x) * linear1 x)."""

    def __init__(self, d_model: int, d_ff: int, kind: str = "gelu", bias: bool = True):
        super().__init__()
        if kind not in ("gelu", "silu", "swiglu"):
            raise ValueError(f"mlp must be 'gelu', 'silu' or 'swiglu', got {kind!r}")
        self.kind = kind
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)  # W_in
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)  # W_out
        if kind == "swiglu":
            self.gate = nn.Linear(d_model, d_ff, bias=bias)

    def forward(self, x):
        if self.kind == "gelu":
            return self.linear2(F.gelu(self.linear1(x)))
        if self.kind == "silu":
            return self.linear2(F.silu(self.linear1(x)))
        return self.linear2(F.silu(self.gate(x)) * self.linear1(x))


class Block(nn.Module):
    """Pre-norm encoder block: x + attn(ln1(x)), then + mlp(ln2(.))."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        norm: str = "layernorm",
        mlp: str = "gelu",
        bias: bool = True,
        qk_norm: str = "none",
    ):
        super().__init__()
        self.attn = Attention(d_model, n_heads, bias, qk_norm)
        self.mlp = MLP(d_model, d_ff, mlp, bias)
        self.ln1 = make_norm(norm, d_model)
        self.ln2 = make_norm(norm, d_model)

    def forward(self, x, qkv=None, only: int | None = None):
        """x: (B, T, d). `qkv`: precomputed projections (q, k, v) of ln1(x), each (B, T, d).
        `only`: compute the output at this one position, (B, 1, d), instead of all of them."""
        d = x.shape[-1]
        if only is None:
            q, k, v = self.attn.qkv(self.ln1(x)).split(d, dim=-1) if qkv is None else qkv
        elif qkv is None:
            h = self.ln1(x)
            q = self.attn.q(h[:, only : only + 1] if only != -1 else h[:, -1:])
            k, v = self.attn.kv(h).split(d, dim=-1)
            x = x[:, only : only + 1] if only != -1 else x[:, -1:]
        else:
            q, k, v = qkv
            sl = slice(only, only + 1) if only != -1 else slice(-1, None)
            q, x = q[:, sl], x[:, sl]
        x = x + self.attn(q, k, v)
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """The papers' model. forward(tokens (B, T)) -> logits (n_tasks, B, p)."""

    def __init__(
        self,
        vocab: int,
        n_classes: int,
        n_tasks: int = 1,
        seq_len: int = 2,
        d_model: int = 128,
        n_heads: int = 4,
        d_ff: int = 256,
        n_layers: int = 2,
        readout: int = 0,
        tied_init: bool = True,
        norm: str = "layernorm",
        mlp: str = "gelu",
        bias: bool = True,
        qk_norm: str = "none",
        pos_std: float = 0.0,
    ):
        super().__init__()
        self.readout = readout
        self.embed = nn.Embedding(vocab, d_model)  # W_E, N(0, 1)
        pos = torch.randn(seq_len, d_model)
        self.pos = nn.Parameter(pos * pos_std if pos_std > 0 else pos / math.sqrt(d_model))  # W_pos
        make_block = lambda: Block(d_model, n_heads, d_ff, norm, mlp, bias, qk_norm)
        first = make_block()
        self.blocks = nn.ModuleList(
            [first] + [copy.deepcopy(first) if tied_init else make_block() for _ in range(n_layers - 1)]
        )
        self.ln_f = make_norm(norm, d_model)
        self.heads = nn.ModuleList([nn.Linear(d_model, n_classes, bias=bias) for _ in range(n_tasks)])  # W_U

    @classmethod
    def from_config(cls, cfg) -> Transformer:
        return cls(
            vocab=cfg.vocab,
            n_classes=cfg.p,
            n_tasks=cfg.n_tasks,
            seq_len=cfg.seq_len,
            d_model=cfg.d_model,
            n_heads=cfg.n_heads,
            d_ff=cfg.d_ff,
            n_layers=cfg.n_layers,
            readout=cfg.readout,
            tied_init=cfg.tied_init,
            norm=cfg.norm,
            mlp=cfg.mlp,
            bias=cfg.bias,
            qk_norm=cfg.qk_norm,
            pos_std=cfg.pos_std,
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        B, T = tokens.shape
        positions = torch.arange(T, device=tokens.device)
        first = cast(Block, self.blocks[0])  # nn.ModuleList yields plain Modules to the type checker
        if B > self.embed.num_embeddings:
            # Block 0 sees only (token, position) pairs: normalise and project that table, gather rows.
            V, d = self.embed.weight.shape
            table = (self.embed.weight[:, None, :] + self.pos).view(V * T, d)  # row = token * T + position
            rows = tokens * T + positions  # (B, T)
            x = F.embedding(rows, table)  # (B, T, d)
            qkv = [F.embedding(rows, t) for t in first.attn.qkv(first.ln1(table)).split(d, dim=-1)]
        else:
            x = self.embed(tokens) + self.pos  # (B, T, d)
            qkv = None
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x = block(x, qkv=qkv if i == 0 else None, only=self.readout if i == last else None)
        h = self.ln_f(x[:, 0])  # (B, d): the read-out position (the last block kept only that one)
        return torch.stack([head(h) for head in self.heads])  # (n_tasks, B, n_classes)


def build_model(cfg) -> Transformer:
    return Transformer.from_config(cfg)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def attention_weights(model: Transformer) -> dict[tuple[int, str], torch.Tensor]:
    """{(layer, "W_Q" | "W_K" | "W_V" | "W_O"): (d, d) view}, in PyTorch's (out, in) convention."""
    out = {}
    for i, block in enumerate(model.blocks):
        attn = cast(Block, block).attn
        d, w = attn.d_model, attn.in_proj_weight
        out[(i, "W_Q")], out[(i, "W_K")], out[(i, "W_V")] = w[:d], w[d : 2 * d], w[2 * d :]
        out[(i, "W_O")] = attn.out_proj.weight
    return out


def attention_from_params(params: dict) -> dict[tuple[int, str], torch.Tensor]:
    """attention_weights() for a {name: tensor} parameter dict (e.g. `unflatten(theta, model)`)."""
    out, i = {}, 0
    while f"blocks.{i}.attn.in_proj_weight" in params:
        w = params[f"blocks.{i}.attn.in_proj_weight"]
        out[(i, "W_Q")], out[(i, "W_K")], out[(i, "W_V")] = w.split(w.shape[1])
        out[(i, "W_O")] = params[f"blocks.{i}.attn.out_proj.weight"]
        i += 1
    return out


def param_layout(model: nn.Module) -> dict[str, tuple[int, tuple[int, ...]]]:
    """{parameter name: (offset, shape)} in the flattened parameter vector theta."""
    layout, offset = {}, 0
    for name, p in model.named_parameters():
        layout[name] = (offset, tuple(p.shape))
        offset += p.numel()
    return layout


def matrix_offsets(model: Transformer) -> dict[tuple[int, str], tuple[int, tuple[int, int]]]:
    """{(layer, W_*): (offset in theta, shape)}: where each attention matrix lives in theta."""
    layout = param_layout(model)
    out: dict[tuple[int, str], tuple[int, tuple[int, int]]] = {}
    for i, block in enumerate(model.blocks):
        d = cast(Block, block).attn.d_model
        base, _ = layout[f"blocks.{i}.attn.in_proj_weight"]
        for j, name in enumerate(("W_Q", "W_K", "W_V")):
            out[(i, name)] = (base + j * d * d, (d, d))
        out[(i, "W_O")] = (layout[f"blocks.{i}.attn.out_proj.weight"][0], (d, d))
    return out


def flatten(model_or_params) -> torch.Tensor:
    """theta: all parameters concatenated in `named_parameters` order."""
    params = model_or_params.parameters() if isinstance(model_or_params, nn.Module) else model_or_params.values()
    return torch.cat([p.detach().reshape(-1) for p in params])


def unflatten(theta: torch.Tensor, model: nn.Module) -> dict[str, torch.Tensor]:
    """Inverse of `flatten`: {name: tensor} views into theta with the model's shapes."""
    return {name: theta[o : o + math.prod(s)].view(s) for name, (o, s) in param_layout(model).items()}
