import random

import pytest
import torch

from grokkit.data import OPERATIONS, make_dataset


def test_six_operations_compute_their_formulas():
    a, b, p = torch.tensor([3, 96, 50]), torch.tensor([5, 2, 0]), 97
    expect = {
        "add": (a + b) % p,
        "sub": (a - b) % p,
        "mul": (a * b) % p,
        "x2_y2": (a**2 + b**2) % p,
        "x2_xy_y2": (a**2 + a * b + b**2) % p,
        "x3_xy": (a**3 + a * b) % p,
    }
    assert set(expect) <= set(OPERATIONS)
    for name, y in expect.items():
        assert torch.equal(OPERATIONS[name].fn(a, b, p), y), name
    assert OPERATIONS["sub"].fn(torch.tensor(2), torch.tensor(5), 97) == 94


def test_pair_sets_and_mul_excludes_zero():
    assert len(make_dataset("add").pairs) == 97 * 97
    mul = make_dataset("mul")
    assert len(mul.pairs) == 96 * 96 and (mul.pairs > 0).all()
    dual = make_dataset(("add", "mul"))  # every task of a multi-task set shares the pairs
    assert len(dual.pairs) == 96 * 96 and dual.labels.shape == (96 * 96, 2)


def test_split_is_seeded_disjoint_and_sized():
    d = make_dataset("add", split_seed=42)
    assert len(d.train_idx) == int(0.5 * 9409) and len(d.train_idx) + len(d.test_idx) == 9409
    assert not set(d.train_idx.tolist()) & set(d.test_idx.tolist())
    assert torch.equal(d.train_idx, make_dataset("add", split_seed=42).train_idx)
    assert not torch.equal(d.train_idx, make_dataset("add", split_seed=137).train_idx)
    # the authors' recipe: random.Random(seed).shuffle of the lexicographic pair list
    pairs = [(a, b) for a in range(97) for b in range(97)]
    random.Random(42).shuffle(pairs)
    ours = {tuple(x) for x in d.pairs[d.train_idx].tolist()}
    assert ours == set(pairs[:4704])


def test_multitask_tasks_share_one_split_with_one_label_each():
    tri = make_dataset(("add", "mul", "x2_y2"), split_seed=7)
    mul = make_dataset("mul", split_seed=7)
    assert torch.equal(tri.train_idx, mul.train_idx)
    a, b = tri.pairs[:, 0], tri.pairs[:, 1]
    assert torch.equal(tri.labels[:, 1], (a * b) % 97) and torch.equal(tri.labels[:, 2], (a * a + b * b) % 97)


def test_batches_are_drawn_with_replacement_from_train_only():
    d = make_dataset("add", p=13, train_frac=0.3)
    block = d.sample_block(50, 512, torch.Generator().manual_seed(0))
    assert block.shape == (50, 512)
    assert set(block.unique().tolist()) <= set(d.train_idx.tolist())
    assert len(block[0].unique()) < 512  # 512 draws from 50 pairs must repeat
    again = d.sample_block(50, 512, torch.Generator().manual_seed(0))
    assert torch.equal(block, again)


def test_equals_token_option():
    d = make_dataset("add", p=11, equals_token=True)
    assert d.inputs.shape == (121, 3) and (d.inputs[:, 2] == 11).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(ops="div"), r"unknown operation 'div'; choose from \['add'"),
        (dict(ops="add", p=1), "p must be an integer >= 2"),
        (dict(ops="mul", p=12), "need a prime p"),
        (dict(ops="add", train_frac=1.0), r"open interval \(0, 1\)"),
        (dict(ops="add", train_frac=0.0), r"open interval \(0, 1\)"),
        (dict(ops="add", p=3, train_frac=0.05), "empty split"),
        (dict(ops=()), "at least one operation"),
    ],
)
def test_bad_input_names_the_valid_choices(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


def test_non_prime_is_fine_where_the_operation_does_not_need_it():
    assert len(make_dataset("add", p=12).pairs) == 144
