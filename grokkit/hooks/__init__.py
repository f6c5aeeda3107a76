"""Hooks: how an experiment reaches inside training (`base`: the protocol, snapshots, projection, kicks),
what a hook sees (`context`), trackers that only record (`trackers`) and the regularisers (`regularizers`).

`gk.hooks.Kick`, `gk.hooks.GradientProjection`, ... are the protocol module's names; `gk.trackers` and
`gk.regularizers` are the two submodules.
"""

from grokkit.hooks import regularizers, trackers
from grokkit.hooks.base import (
    AttentionSnapshots,
    Every,
    GradientProjection,
    Hook,
    Kick,
    OwnGenerator,
    ParameterCheckpoints,
    basis_digest,
    builtin_hooks,
    hooks_key,
)

__all__ = [
    "AttentionSnapshots",
    "Every",
    "GradientProjection",
    "Hook",
    "Kick",
    "OwnGenerator",
    "ParameterCheckpoints",
    "basis_digest",
    "builtin_hooks",
    "hooks_key",
    "regularizers",
    "trackers",
]
