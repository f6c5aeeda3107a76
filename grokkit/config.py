"""Run configuration: one frozen dataclass whose defaults are the Xu papers' setting.

Sources: papers-spec §1 (arXiv 2602.16746 / 2602.18523 / 2602.18649). Make variants with
`dataclasses.replace(cfg, weight_decay=0.0)` or `cfg.replace(...)`; nothing ever mutates a config.
Every threshold the papers use is a field, never a constant buried in the loop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from grokkit.config_rules import check  # the fields' types and ranges (data owns the operation registry)

# Fields that change how fast a run goes or what it prints, never what it computes:
# they are left out of the cache key (see `Config.key`).
RUNTIME_FIELDS = ("device", "compile", "cuda_graph", "fused_step")
KEY_VERSION = 1


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return _plain(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return _plain(f.default_factory())
    raise TypeError(f"config field {f.name!r} has no default")


@dataclass(frozen=True)
class Config:
    # --- task (papers-spec §1.1) ---
    ops: tuple[str, ...] = ("add",)  # one operation per output head; see grokkit.data.OPERATIONS
    p: int = 97  # modulus; also the vocabulary size (no "=" token by default)
    train_frac: float = 0.5  # fraction of the pair set used for training (50/50 split, §1.1)
    data_seed: int | None = None  # seed of the split's own generator; None = use `seed`
    equals_token: bool = False  # append an "=" token (id p) to every input (LRD chapter)
    # --- model (§1.2) ---
    d_model: int = 128
    n_heads: int = 4
    d_ff: int = 256
    n_layers: int = 2
    readout: int = 0  # sequence position read by the heads (0 = the `a` token, as in the papers)
    tied_init: bool = True  # every block starts as a copy of the first (nn.TransformerEncoder does)
    norm: str = "layernorm"  # "layernorm" (Xu) or "rmsnorm" (scale-invariant variant, LRD chapter)
    qk_norm: str = "none"  # "none" (Xu), "l2" (per-head, no gain) or "rms" (RMSNorm with gain on q, k)
    mlp: str = "gelu"  # "gelu" (Xu), "silu" or "swiglu"
    bias: bool = True  # biases in every linear layer (Xu); the LRD code bases have none
    pos_std: float = 0.0  # positional-embedding init std; 0 = N(0, 1)/sqrt(d_model) (Xu)
    # --- optimiser (§1.3): AdamW on EVERY parameter, embeddings and LayerNorm gains included ---
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    weight_decay: float = 1.0
    decay_exclude: tuple[str, ...] = ()  # parameters (name fragments) AdamW does not decay, e.g. ("in_proj",)
    grad_clip: float | None = 1.0  # global grad-norm clip before the step; None = off
    batch_size: int = 512  # drawn with replacement from the train pairs every step (no epochs)
    precision: str = "fp32"  # "fp32", "tf32" (TF32 matmuls on CUDA; fp32 on a CPU) or "bf16" (autocast of the forward)
    # --- schedule and stopping (§1.3) ---
    max_steps: int = 200_000  # paper budget: 200k single task, 300k multi task, 50k wd=0 controls
    eval_every: int = 100  # full train + test evaluation cadence
    stop_threshold: float | None = 0.98  # stop when every task's test acc >= this ...
    stop_patience: int = 3  # ... on this many consecutive evaluations; None threshold = never stop
    steps_after_stop: int = 0  # keep training this many steps after the criterion (lead analyses: 1000)
    # --- trajectory capture (§1.4) ---
    snapshot_every: int = 100  # attention matrices W_Q..W_O of every layer (plus step 0); 0 = off
    checkpoint_every: int = 200  # full flattened parameter vector theta (plus step 0); 0 = off
    # --- reproducibility and hardware ---
    seed: int = 42  # model initialisation and batch stream (and the split unless data_seed is set)
    device: str = "auto"  # "auto" (cuda > mps > cpu), "cpu", "cuda", "mps"
    compile: bool = False  # torch.compile forward+backward (measured slower on a 2-core CPU; see benchmarks/)
    cuda_graph: bool = True  # on CUDA, replay each step as CUDA graph(s) (grokkit.training.steps)
    fused_step: bool = False  # ensembles: clip and AdamW over packed (N, P) stacks (grokkit.engines.stacked; opt-in)

    def __post_init__(self):
        check(self)  # every field's type and range (grokkit.config_rules); lists become tuples

    # --- derived quantities ---
    @property
    def n_tasks(self) -> int:
        return len(self.ops)

    @property
    def seq_len(self) -> int:
        return 3 if self.equals_token else 2

    @property
    def vocab(self) -> int:
        return self.p + 1 if self.equals_token else self.p

    @property
    def split_seed(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown config fields {sorted(unknown)}")
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}  # JSON values
        return cls(**kwargs)

    def key(self, extra: str = "") -> str:
        """Short hash of the fields that differ from the defaults (runtime fields excluded) + `extra`.

        Hashing only what differs from the papers' defaults keeps every cached run valid when a new
        field (with a default that reproduces the old behaviour) is added later. The defaults are the
        papers' settings and are never changed; KEY_VERSION is bumped if one ever must be."""
        base = Config.__dataclass_fields__
        d = {
            k: _plain(v)
            for k, v in self.to_dict().items()
            if k not in RUNTIME_FIELDS and _plain(v) != _default(base[k])
        }
        blob = json.dumps({"v": KEY_VERSION, **d}, sort_keys=True, default=list) + extra
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def describe(self) -> str:
        """One line naming the fields that differ from the defaults."""
        base = Config()
        diff = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(base, f.name)
        ]
        return ", ".join(diff) or "paper defaults"


# --- named presets (module constants; derive variants with .replace) ---
SINGLE_TASK = Config()  # 290,401 parameters; add mod 97, wd 1.0: groks at ~3k steps
DUAL_TASK = Config(ops=("add", "mul"), max_steps=300_000)  # 302,914 parameters (2602.18523)
TRI_TASK = Config(ops=("add", "mul", "x2_y2"), max_steps=300_000)  # 315,427 parameters
# The slow regime of 2602.16746 (its appendix; papers-spec §2.1): 3 layers, lr 5e-5, wd 0.1, β2 0.999, `add` only,
# up to 800k steps, evaluation every 1,000 steps, attention snapshots every 2,000 (no θ checkpoints stated).
# 422,881 parameters; the authors' two runs reached 90% test accuracy at 585k and 550k steps.
SLOW = SINGLE_TASK.replace(
    n_layers=3,
    lr=5e-5,
    weight_decay=0.1,
    betas=(0.9, 0.999),
    max_steps=800_000,
    eval_every=1_000,
    snapshot_every=2_000,
    checkpoint_every=0,
)
# Fast preset for tests and smoke runs: p = 31, a 64-wide model; groks in ~1.3k steps (~5 s on a CPU).
FAST = Config(
    p=31,
    d_model=64,
    n_heads=2,
    d_ff=128,
    lr=3e-3,
    train_frac=0.7,
    batch_size=128,
    max_steps=3000,
    eval_every=20,
    snapshot_every=20,
    checkpoint_every=40,
)


# The Low-Rank Decay paper's mechanism setting (2606.04405; its original experiment, papers-spec §5.3 A):
# tokens [a, b, "="], p = 113, pre-RMSNorm, RMSNorm QK-norm with gain, SiLU MLP 512, no biases, read-out
# from "=", AdamW betas (0.9, 0.999), no clipping, evaluation every 200 steps. The regulariser (L2 or
# Low-Rank Decay) is chosen by hooks: see grokkit.book.lrd_member.
LRD = Config(
    p=113,
    equals_token=True,
    readout=-1,
    norm="rmsnorm",
    qk_norm="rms",
    mlp="silu",
    d_ff=512,
    bias=False,
    tied_init=False,
    pos_std=0.02,
    betas=(0.9, 0.999),
    grad_clip=None,
    weight_decay=0.1,
    eval_every=200,
    stop_threshold=0.99,
    stop_patience=2,
    max_steps=2500,
    snapshot_every=0,
    checkpoint_every=0,
)


def single(op: str = "add", **changes) -> Config:
    """The single-task preset for `op` (2602.16746), with optional field changes."""
    return SINGLE_TASK.replace(ops=(op,), **changes)


def dual(**changes) -> Config:
    return DUAL_TASK.replace(**changes)


def tri(**changes) -> Config:
    return TRI_TASK.replace(**changes)


def scale(name: str, base: Config = TRI_TASK) -> Config:
    """Model scales of 2602.18649 (Chapter 4): "315K", "1.2M", "2.2M" (tri-task head counts).

    "2.2M" = d_model 256, 4 layers, d_ff 512 reproduces the paper's 2,209,059 parameters exactly.
    The middle scale is not public; "1.2M" = d_model 256, 2 layers, d_ff 512 (1,154,851) widens
    the model first and deepens it second, one recipe change at a time.
    """
    shapes = {
        "315K": dict(d_model=128, n_layers=2, d_ff=256),
        "1.2M": dict(d_model=256, n_layers=2, d_ff=512),
        "2.2M": dict(d_model=256, n_layers=4, d_ff=512),
    }
    if name not in shapes:
        raise ValueError(f"unknown scale {name!r}; choose one of {sorted(shapes)}")
    return base.replace(**shapes[name])


PRESETS = {"single": SINGLE_TASK, "dual": DUAL_TASK, "tri": TRI_TASK, "fast": FAST, "lrd": LRD, "slow": SLOW}
