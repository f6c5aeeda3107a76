"""Modular-arithmetic tasks: the operation registry, the shared pair set, the split, batches.

papers-spec §1.1: inputs are the two tokens [a, b] (no "=" token unless asked for); every task of a
multi-task dataset labels the SAME pairs and shares ONE split. `mul` excludes 0, and so does any
dataset that contains it (the multi-task papers use a, b in 1..p-1 for every task). The split is
`random.Random(split_seed).shuffle` of the pairs in lexicographic order, train = first
floor(train_frac * N) — the authors' recipe, so seed 42 gives their split.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Operation:
    name: str
    formula: str  # for figure labels and docs
    fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]
    exclude_zero: bool = False  # pairs with a == 0 or b == 0 are left out
    needs_prime: bool = False  # the operation is only a group operation for prime p


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in [
        Operation("add", "a + b", lambda a, b, p: (a + b) % p),
        Operation("sub", "a − b", lambda a, b, p: (a - b) % p),
        Operation("mul", "a · b", lambda a, b, p: (a * b) % p, exclude_zero=True, needs_prime=True),
        Operation("x2_y2", "a² + b²", lambda a, b, p: (a * a + b * b) % p),
        Operation("x2_xy_y2", "a² + ab + b²", lambda a, b, p: (a * a + a * b + b * b) % p),
        Operation("x3_xy", "a³ + ab", lambda a, b, p: (a * a * a + a * b) % p),
    ]
}


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, int(n**0.5) + 1))


def validate_task(ops: tuple[str, ...], p: int, train_frac: float) -> None:
    """Raise ValueError naming the valid choices when a task cannot be built."""
    if not ops:
        raise ValueError(f"ops must name at least one operation; choose from {sorted(OPERATIONS)}")
    for name in ops:
        if name not in OPERATIONS:
            raise ValueError(f"unknown operation {name!r}; choose from {sorted(OPERATIONS)}")
    if len(set(ops)) != len(ops):
        raise ValueError(f"ops must not repeat an operation, got {ops}")
    if not isinstance(p, int) or p < 2:
        raise ValueError(f"p must be an integer >= 2, got {p!r}")
    needing = [n for n in ops if OPERATIONS[n].needs_prime]
    if needing and not _is_prime(p):
        raise ValueError(f"{needing} need a prime p, got {p}; e.g. 23, 59, 97, 113")
    if not 0.0 < train_frac < 1.0:
        raise ValueError(f"train_frac must lie in the open interval (0, 1), got {train_frac}")
    n_pairs = (p - 1) ** 2 if any(OPERATIONS[n].exclude_zero for n in ops) else p * p
    n_train = int(train_frac * n_pairs)
    if n_train == 0 or n_train == n_pairs:
        raise ValueError(
            f"train_frac={train_frac} leaves an empty split of {n_pairs} pairs; "
            f"choose a value in ({1 / n_pairs:.4f}, {1 - 1 / n_pairs:.4f})"
        )


@dataclass
class Dataset:
    """All pairs of a task, their labels and the split. Tensors live on one device."""

    ops: tuple[str, ...]
    p: int
    pairs: torch.Tensor  # (N, 2) long: (a, b), lexicographic order
    inputs: torch.Tensor  # (N, seq_len) long: [a, b] or [a, b, "="]
    labels: torch.Tensor  # (N, n_tasks) long: one label per task
    train_idx: torch.Tensor  # (n_train,) long, indices into pairs
    test_idx: torch.Tensor  # (n_test,) long

    @property
    def train_mask(self) -> torch.Tensor:
        mask = torch.zeros(len(self.pairs), dtype=torch.bool, device=self.pairs.device)
        mask[self.train_idx] = True
        return mask

    def to(self, device) -> Dataset:
        move = {k: getattr(self, k).to(device) for k in ("pairs", "inputs", "labels", "train_idx", "test_idx")}
        return Dataset(ops=self.ops, p=self.p, **move)

    def sample_block(self, steps: int, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """Pair indices for `steps` batches, each drawn uniformly WITH replacement from train.

        One call per evaluation interval keeps the draw on the generator's device (no host sync)
        and makes the stream a function of the seed alone, so a resumed run sees the same batches.
        """
        pos = torch.randint(len(self.train_idx), (steps, batch_size), generator=generator, device=generator.device)
        return self.train_idx.to(generator.device)[pos]


def make_dataset(
    ops,
    p: int = 97,
    train_frac: float = 0.5,
    split_seed: int = 42,
    equals_token: bool = False,
    split: tuple | None = None,
) -> Dataset:
    """Build the pair set, labels and split. `split=(train_idx, test_idx)` reuses a stored split."""
    ops = (ops,) if isinstance(ops, str) else tuple(ops)
    validate_task(ops, p, train_frac)
    lo = 1 if any(OPERATIONS[n].exclude_zero for n in ops) else 0
    values = torch.arange(lo, p)
    a, b = torch.meshgrid(values, values, indexing="ij")
    pairs = torch.stack([a.flatten(), b.flatten()], dim=1)  # (N, 2), lexicographic
    labels = torch.stack([OPERATIONS[n].fn(pairs[:, 0], pairs[:, 1], p) for n in ops], dim=1)
    inputs = pairs
    if equals_token:
        inputs = torch.cat([pairs, torch.full((len(pairs), 1), p)], dim=1)
    if split is None:
        order = list(range(len(pairs)))
        random.Random(split_seed).shuffle(order)  # the split's own generator (not torch's)
        n_train = int(train_frac * len(pairs))
        train_idx = torch.tensor(sorted(order[:n_train]))
        test_idx = torch.tensor(sorted(order[n_train:]))
    else:
        train_idx, test_idx = (torch.as_tensor(s, dtype=torch.long) for s in split)
    return Dataset(ops, p, pairs, inputs, labels, train_idx, test_idx)


def block_length(eval_every: int, cap: int = 1000) -> int:
    """Batches drawn per `sample_block` call: the largest divisor of eval_every that is <= cap.

    Blocks start at multiples of this length, so every evaluation (where a run can resume) starts
    a block, and a huge eval_every cannot ask for gigabytes of indices.
    """
    return max(k for k in range(1, min(eval_every, cap) + 1) if eval_every % k == 0)


def dataset_for(config) -> Dataset:
    return make_dataset(config.ops, config.p, config.train_frac, config.split_seed, config.equals_token)
