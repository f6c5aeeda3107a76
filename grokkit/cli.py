"""`python -m grokkit ...`: train a run from the command line (more subcommands join as chapters do)."""
from __future__ import annotations

import argparse
import dataclasses
import sys

from grokkit import config as presets
from grokkit.config import Config

_SKIP = {"ops"}  # set through --op / --ops


def _field_parser(f: dataclasses.Field):
    """A converter for one config field, from its annotation."""
    hint = str(f.type)
    if "tuple[float" in hint:
        return lambda s: tuple(float(x) for x in s.split(","))
    if hint.startswith("bool"):
        return lambda s: s.lower() in ("1", "true", "yes", "on")
    if "float" in hint:
        return lambda s: None if s.lower() == "none" else float(s)
    if "int" in hint:
        return lambda s: None if s.lower() == "none" else int(s)
    return str


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("config fields (defaults: the papers' settings, or the --preset's)")
    for f in dataclasses.fields(Config):
        if f.name in _SKIP:
            continue
        g.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=_field_parser(f), default=None,
                       metavar=f.name.upper(), help=f"default {f.default!r}")


def _config_from_args(args) -> Config:
    base = presets.PRESETS[args.preset]
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)
               if f.name not in _SKIP and getattr(args, f.name) is not None}
    if args.ops:
        changes["ops"] = tuple(args.ops.split(","))
    elif args.op:
        changes["ops"] = (args.op,)
    try:
        return base.replace(**changes)
    except ValueError as e:
        raise SystemExit(f"grokkit: {e}")


def cmd_train(args) -> int:
    from grokkit.runs import load_or_train, run_dir
    from grokkit.train import train
    cfg = _config_from_args(args)
    print(f"grokkit: training {'+'.join(cfg.ops)} mod {cfg.p} ({cfg.describe()})")
    if args.no_cache:
        run = train(cfg, progress=not args.quiet)
        path = run.save(run_dir(cfg, root=args.runs_dir)) if args.save else None
    else:
        run = load_or_train(cfg, root=args.runs_dir, progress=not args.quiet)
        path = run_dir(cfg, root=args.runs_dir)
    for op, t98, t90 in zip(cfg.ops, run.grok_step(cfg.stop_threshold or 0.98, cfg.stop_patience),
                            run.grok_step(0.9, 1)):
        verdict = f"grokked at step {t98}" if t98 is not None else "did not grok"
        print(f"  {op}: {verdict} (first >= 90% test accuracy: {t90}); final test acc "
              f"{run.final('test_acc')[cfg.ops.index(op)]:.3f}")
    print(f"  {run.info['final_step']} steps in {run.info['wall_time_s']:.1f} s on {run.info['device']}")
    if path:
        print(f"  saved: {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grokkit",
                                     description="Train and analyse grokking runs (The Grokking Book).")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one run (cached by config), print its grok step(s)",
                       description="Train one run; the result is cached, so a second call loads it.")
    t.add_argument("--op", default=None, help="operation (add, sub, mul, x2_y2, x2_xy_y2, x3_xy)")
    t.add_argument("--ops", default=None, help="comma-separated operations for a multi-task run")
    t.add_argument("--preset", default="single", choices=sorted(presets.PRESETS))
    t.add_argument("--runs-dir", default=None, help="cache directory (default $GROKKIT_RUNS or ~/.cache/grokkit/runs)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--no-cache", action="store_true", help="always train (and only save with --save)")
    t.add_argument("--save", action="store_true", help="with --no-cache: save the run anyway")
    _add_config_flags(t)
    t.set_defaults(func=cmd_train)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
