"""Bad input gives a clear one-line error (Config fields, the `train` command); valid configs keep their keys."""

import dataclasses
import math

import pytest
import torch

import grokkit as gk
from grokkit import book, cli
from grokkit import config as presets
from grokkit.config import Config
from grokkit.course import grader
from grokkit.data import OPERATIONS
from grokkit.repro import reproduce, scorecard

NAN, INF = math.nan, math.inf
TINY = presets.FAST.replace(
    max_steps=30, eval_every=100, snapshot_every=0, checkpoint_every=0, stop_threshold=None, device="cpu"
)


def _configs(obj, path: str, out: dict) -> dict:
    """Every Config reachable from a profile object (dataclass fields, lists, tuples, dicts)."""
    if isinstance(obj, Config):
        out[path] = obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _configs(getattr(obj, f.name), f"{path}.{f.name}", out)
    elif isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj):
            _configs(x, f"{path}[{i}]", out)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            _configs(x, f"{path}[{k!r}]", out)
    return out


def _all_valid_configs() -> dict:
    found = {name: c for name, c in presets.PRESETS.items()}
    found |= {f"scale({s})": presets.scale(s) for s in ("315K", "1.2M", "2.2M")}
    for n in range(1, 6):
        for profile in ("smoke", "default", "paper"):
            _configs(getattr(book, f"chapter{n}")(profile), f"chapter{n}({profile})", found)
    return found


# Cache keys recorded from the code before the field checks were added: a regression guard, since
# a changed key would silently orphan every cached run.
KEYS_BEFORE = {
    "single": "9ab2253fc38981f5",
    "dual": "4eb74aadf765d3e5",
    "tri": "e1a30bccef756fc3",
    "fast": "8d8a26102d466b58",
    "lrd": "c53b1611874712bc",
    "chapter1(smoke).base": "eca643dbf0e1918b",
    "chapter1(smoke).grid_base": "bc5459b60b7f97ca",
    "chapter1(default).base": "e07af6a655d21b3c",
    "chapter1(default).grid_base": "2b3688bfda7f08dc",  # issue 35: lr 1e-2, 3,000 steps (phase_scan)
    "chapter1(paper).base": "df87a324748f025f",
    "chapter1(paper).grid_base": "cfa08500d23c408c",
    "chapter3(smoke).tri": "18c134381e794627",
    "chapter3(smoke).dual": "2554977f227b5426",
    "chapter3(default).tri": "298a5fbac6091fef",
    "chapter3(default).dual": "ba30d3f87d66bd78",
    "chapter5(smoke).base": "038a221d37c5df1a",
    "chapter5(default).grid_base": "fb3fce69470b77f2",
}


def test_every_preset_and_profile_config_is_valid_and_replace_keeps_it():
    found = _all_valid_configs()
    assert len(found) > 30
    for name, c in found.items():
        assert c.replace() == c and Config.from_dict(c.to_dict()) == c, name
    for profile in ("smoke", "default", "paper"):  # the per-operation runs of Chapters 1 and 2
        settings = book.chapter1(profile)
        for op in settings.ops:
            for seed in book.seeds_for(settings, op):
                book.op_member(settings, op, seed)
                book.op_member(settings, op, seed, weight_decay=0.0)


def test_cache_keys_of_valid_configs_are_unchanged():
    found = _all_valid_configs()
    assert {name: found[name].key() for name in KEYS_BEFORE} == KEYS_BEFORE
    assert found["chapter5(paper).base"].key() == KEYS_BEFORE["lrd"]
    # lists still become tuples, and an integer numpy scalar an int: the same config, the same key
    listed = presets.FAST.replace(betas=[0.9, 0.98], ops=["add"], decay_exclude=[])
    assert listed == presets.FAST and listed.key() == KEYS_BEFORE["fast"]
    numpy_seed = presets.FAST.replace(seed=torch.tensor(42).numpy()[()])
    assert type(numpy_seed.seed) is int and numpy_seed.key() == KEYS_BEFORE["fast"]


@pytest.mark.parametrize(
    "field, values",
    [
        ("lr", [0.0, -1e-3, NAN, INF, -INF]),
        ("weight_decay", [-0.1, NAN, INF]),
        ("eps", [0.0, -1e-8, NAN, INF]),
        ("pos_std", [-0.02, NAN, INF]),
        ("train_frac", [0.0, 1.0, -0.5, NAN, INF]),
        ("grad_clip", [0.0, -1.0, NAN, INF]),
        ("stop_threshold", [0.0, 1.01, NAN, INF]),
        ("betas", [(0.9, 1.0), (-0.1, 0.98), (NAN, 0.98), (0.9, INF), (0.9,), (0.9, 0.98, 0.999)]),
        ("max_steps", [0, -5]),
        ("eval_every", [0, -100]),
        ("steps_after_stop", [-1]),
        ("snapshot_every", [-1]),
        ("checkpoint_every", [-40, 30]),
        ("batch_size", [0]),
        ("stop_patience", [0]),
        ("seed", [-1, 2**32, 2**40]),
        ("data_seed", [-1, 2**32]),
        ("p", [1, 0, -7]),
        ("d_model", [0, 63]),
        ("n_heads", [0, -2, 3]),
        ("d_ff", [0]),
        ("n_layers", [0]),
        ("readout", [2, -3]),
        ("ops", [(), ("div",), ("add", "add"), ("add", "")]),
        ("norm", ["batchnorm"]),
        ("qk_norm", ["l1"]),
        ("mlp", ["relu"]),
        ("precision", ["fp16"]),
        ("device", ["tpu", "cuda:x", "cuda:"]),
        ("decay_exclude", [("",), ("in_proj", "")]),
    ],
)
def test_out_of_range_values_raise_a_one_line_value_error_naming_the_field(field, values):
    for v in values:
        with pytest.raises(ValueError) as e:
            presets.FAST.replace(**{field: v})
        msg = str(e.value)
        assert "\n" not in msg and (field in msg or (field == "ops" and "operation" in msg)), (v, msg)
        with pytest.raises(ValueError):
            Config(**{field: v})  # construction checks the same rules as .replace()


@pytest.mark.parametrize(
    "field, values",
    [
        ("lr", ["1e-3", None, True, [1e-3]]),
        ("weight_decay", ["1.0", None, False]),
        ("eps", [None]),
        ("pos_std", [None, "0"]),
        ("train_frac", ["0.5", None]),
        ("grad_clip", ["1.0", True]),
        ("stop_threshold", ["0.98"]),
        ("betas", [0.9, "0.9,0.98", None, ("0.9", "0.98"), (True, 0.98)]),
        ("max_steps", [100.0, 3e3, "3000", True, None]),
        ("eval_every", [20.0, True]),
        ("steps_after_stop", [1.5, None]),
        ("snapshot_every", [False, 20.0]),
        ("checkpoint_every", [None]),
        ("batch_size", [128.0]),
        ("stop_patience", [True, None]),
        ("seed", [42.0, "42", True, None]),
        ("data_seed", [1.0, "1", True]),
        ("p", [31.0, "31", True]),
        ("d_model", [64.0, True]),
        ("n_heads", [2.0, True]),
        ("d_ff", [128.0]),
        ("n_layers", [True, 2.0]),
        ("readout", [0.0, None]),
        ("ops", ["add", "add,mul", None, {"add"}, (1,), ("add", None)]),
        ("decay_exclude", ["in_proj", None, ("in_proj", 1), {"in_proj"}]),
        ("equals_token", [1, "yes", None]),
        ("tied_init", [0]),
        ("bias", ["false"]),
        ("compile", [None]),
        ("cuda_graph", [1]),
        ("norm", [None, 1]),
        ("device", [None, 0]),
        ("precision", [32]),
    ],
)
def test_wrongly_typed_values_raise_a_one_line_type_error_naming_the_field(field, values):
    for v in values:
        with pytest.raises(TypeError) as e:
            presets.FAST.replace(**{field: v})
        msg = str(e.value)
        assert "\n" not in msg and field in msg, (v, msg)


def test_messages_name_the_allowed_range():
    cases = {
        "lr": (NAN, "lr must be > 0, and be finite; got nan"),
        "weight_decay": (INF, "weight_decay must be >= 0 (0 = no decay), and be finite; got inf"),
        "train_frac": (1.0, "train_frac must lie in the open interval (0, 1), got 1.0"),
        "seed": (-1, "seed must be an integer in [0, 2**32), got -1"),
        "max_steps": (0, "max_steps must be an integer >= 1, got 0"),
        "steps_after_stop": (-1, "steps_after_stop must be an integer >= 0, got -1"),
        "betas": ((0.9, 1.0), "betas must be two finite numbers in [0, 1), e.g. (0.9, 0.98), got (0.9, 1.0)"),
    }
    for field, (v, message) in cases.items():
        with pytest.raises(ValueError) as e:
            presets.FAST.replace(**{field: v})
        assert str(e.value) == message
    with pytest.raises(TypeError, match=r"decay_exclude must be a tuple of parameter-name fragments, e\.g\."):
        presets.FAST.replace(decay_exclude="in_proj")
    with pytest.raises(TypeError, match="ops must be a tuple of operation names from"):
        presets.FAST.replace(ops="add")
    with pytest.raises(TypeError, match="max_steps must be an integer >= 1, got 3000.0 \\(float\\)"):
        presets.FAST.replace(max_steps=3e3)
    with pytest.raises(ValueError, match="d_model=64 must be divisible by n_heads=3"):
        presets.FAST.replace(n_heads=3)


def test_valid_edge_values_are_accepted():
    ok = dict(
        weight_decay=0.0,
        pos_std=0.0,
        betas=(0.0, 0.0),
        stop_threshold=1.0,
        grad_clip=None,
        steps_after_stop=0,
        snapshot_every=0,
        checkpoint_every=0,
        seed=0,
        data_seed=2**32 - 1,
        max_steps=1,
        eval_every=1,
        n_heads=64,
        readout=-2,
        device="cuda:3",  # a config may name a device another machine has
        decay_exclude=["in_proj", "embed"],
        ops=tuple(sorted(OPERATIONS.keys() - {"mul"})),  # p = 31 is prime, but every other operation at once
    )
    c = presets.FAST.replace(**ok)
    assert c.decay_exclude == ("in_proj", "embed") and c.betas == (0.0, 0.0)
    assert presets.FAST.replace(weight_decay=0, lr=1).weight_decay == 0  # an int is a number


# --- the `train` command ---


def _train_args(*args) -> list[str]:
    return ["train", "--preset", "fast", "--quiet", "--no-cache", *args]


def test_cli_decay_exclude_is_a_comma_separated_list(monkeypatch):
    parser_args = {
        "in_proj": ("in_proj",),
        "in_proj,embed": ("in_proj", "embed"),
        " in_proj , embed ": ("in_proj", "embed"),
        "": (),
        "none": (),
    }
    for text, expected in parser_args.items():
        assert _config(monkeypatch, "--decay-exclude", text).decay_exclude == expected, text
    with pytest.raises(SystemExit):
        _config(monkeypatch, "--decay-exclude", "in_proj,,embed")  # argparse: "expects comma-separated names"


def _config(monkeypatch, *args) -> Config:
    """The config `train` would run with these arguments (nothing is trained)."""
    seen = {}
    monkeypatch.setattr(cli, "cmd_train", lambda a: seen.setdefault("cfg", cli._config_from_args(a)) and 0)
    cli.main(_train_args(*args))
    return seen["cfg"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ops", ""], "grokkit: --ops expects comma-separated operations, e.g. add,mul, got ''"),
        (["--ops", "add,"], "grokkit: --ops expects comma-separated operations, e.g. add,mul, got 'add,'"),
        (["--op", ""], "grokkit: --op expects one operation, e.g. add, got ''"),
        (["--op", "add", "--ops", "mul"], "grokkit: give --op or --ops, not both"),
        (["--ops", "add,div"], "grokkit: unknown operation 'div'; choose from"),
        (["--lr", "nan"], "grokkit: lr must be > 0, and be finite; got nan"),
        (["--weight-decay", "inf"], "grokkit: weight_decay must be >= 0 (0 = no decay), and be finite; got inf"),
        (["--seed", "-1"], "grokkit: seed must be an integer in [0, 2**32), got -1"),
        (["--max-steps", "0"], "grokkit: max_steps must be an integer >= 1, got 0"),
    ],
)
def test_cli_bad_values_exit_with_one_grokkit_line(args, message, monkeypatch, tmp_path):
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path))
    with pytest.raises(SystemExit) as e:
        cli.main(_train_args(*args))
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_cli_ops_with_spaces_are_stripped(monkeypatch):
    assert _config(monkeypatch, "--ops", "add, sub").ops == ("add", "sub")
    assert _config(monkeypatch, "--op", "mul").ops == ("mul",)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_cli_missing_device_is_one_line_not_a_traceback(device, monkeypatch, tmp_path):
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(SystemExit) as e:
        cli.main(_train_args("--device", device, "--max-steps", "1"))
    assert str(e.value).startswith(f"grokkit: device={device!r}, but ") and "\n" not in str(e.value)
    assert "'auto' or 'cpu'" in str(e.value)
    with pytest.raises(ValueError, match="no such CUDA device|MPS is not available"):
        gk.resolve_device(device)


def test_the_printed_accuracy_names_the_step_it_was_measured_at(monkeypatch, tmp_path, capsys):
    # evaluation stays on the eval_every cadence (cached runs keep their histories); the CLI says which step
    monkeypatch.setenv("GROKKIT_RUNS", str(tmp_path))
    run = gk.train(TINY, progress=False)
    assert run.history["step"] == [0] and run.info["final_step"] == 30
    argv = _train_args("--max-steps", "30", "--eval-every", "100", "--snapshot-every", "0")
    assert cli.main([*argv, "--checkpoint-every", "0", "--stop-threshold", "none", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "at the last evaluation (step 0)" in out and "not after step 0" in out and "30 steps" in out


def test_a_corrupt_results_file_is_named_in_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "04-single-task-grokking.json").write_text("{not json")
    monkeypatch.setattr(reproduce, "results_dir", lambda: tmp_path)
    monkeypatch.setattr(scorecard, "results_dir", lambda: tmp_path)
    for argv in (["reproduce", "--list"], ["scorecard", "--out", str(tmp_path / "new" / "page.md")]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert str(e.value).startswith("grokkit: ") and "04-single-task-grokking.json is corrupt" in str(e.value)
    (tmp_path / "04-single-task-grokking.json").unlink()
    assert cli.main(["scorecard", "--out", str(tmp_path / "new" / "page.md")]) == 0  # the folder is created
    assert (tmp_path / "new" / "page.md").read_text().startswith("(scorecard)=")


@pytest.mark.parametrize("flag,value", [("--cell-timeout", "0"), ("--cell-timeout", "-5"), ("--timeout", "0")])
def test_grading_limits_must_be_positive(flag, value, capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "x.ipynb", flag, value])
    assert "invalid positive" in capsys.readouterr().err
    with pytest.raises(ValueError, match="must be positive"):
        grader.grade("x.ipynb", cell_timeout=0)
