"""A deliberately plain reference: the source papers' training loop, restated (not imported).

`nn.TransformerEncoder` model, batches built from a Python list of pairs, accuracy from separate
chunked train and test passes with a `.item()` per chunk, attention snapshots every 100 steps:
the style of the authors' `grok_sweep.py`. Benchmarks time grokkit against this; tests check that
grokkit's model computes the same function.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
import torch
import torch.nn as nn


class PlainTransformer(nn.Module):
    def __init__(self, p=97, d_model=128, n_heads=4, d_ff=256, n_layers=2):
        super().__init__()
        self.tok_emb = nn.Embedding(p, d_model)
        self.pos_emb = nn.Parameter(torch.randn(2, d_model) / math.sqrt(d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=n_layers, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, p)

    def forward(self, a, b):
        h = self.tok_emb(torch.stack([a, b], dim=1)) + self.pos_emb
        return self.head(self.ln(self.encoder(h)[:, 0]))


def plain_train(
    op=lambda a, b, p: (a + b) % p,
    p=97,
    seed=42,
    weight_decay=1.0,
    lr=1e-3,
    max_steps=200_000,
    stop=True,
    device="cpu",
    eval_every=100,
    log=None,
):
    """Train like the papers; returns (grok step or None, steps done, seconds)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    pairs = [(a, b) for a in range(p) for b in range(p)]
    random.Random(seed).shuffle(pairs)
    n = int(0.5 * len(pairs))
    train_pairs, test_pairs = pairs[:n], pairs[n:]
    model = PlainTransformer(p).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
    loss_fn = nn.CrossEntropyLoss()

    @torch.no_grad()
    def accuracy(split):
        model.eval()
        correct = 0
        for i in range(0, len(split), 2048):
            ab = torch.tensor(split[i : i + 2048], device=device)
            y = op(ab[:, 0], ab[:, 1], p)
            correct += (model(ab[:, 0], ab[:, 1]).argmax(-1) == y).sum().item()
        return correct / len(split)

    snapshots, streak, t0 = [], 0, time.perf_counter()
    for step in range(1, max_steps + 1):
        model.train()
        idx = np.random.randint(0, len(train_pairs), size=512)
        ab = np.array([train_pairs[i] for i in idx], dtype=np.int64)
        a, b = torch.tensor(ab[:, 0], device=device), torch.tensor(ab[:, 1], device=device)
        loss = loss_fn(model(a, b), op(a, b, p))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % eval_every == 0:
            snapshots.append([l.self_attn.in_proj_weight.detach().cpu().clone() for l in model.encoder.layers])
            train_acc, test_acc = accuracy(train_pairs), accuracy(test_pairs)
            if log:
                log(step, train_acc, test_acc)
            streak = streak + 1 if test_acc >= 0.98 else 0
            if stop and streak >= 3:
                return step, step, time.perf_counter() - t0
    if device != "cpu":
        torch.cuda.synchronize()
    return None, max_steps, time.perf_counter() - t0
