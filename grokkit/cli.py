"""`python -m grokkit ...`: train a run, measure reproduction targets, build the course kit, grade a submission."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from grokkit import config as presets
from grokkit.cli_args import field_parser, positive
from grokkit.config import Config
from grokkit.course import grader
from grokkit.course.assignments import build
from grokkit.repro import command, reproduce, scorecard
from grokkit.store.bundle import BundleError, default_root, export_bundle, import_bundle
from grokkit.store.repo import NotACheckout
from grokkit.store.rootdir import RunsDirError, writable_root
from grokkit.training.cache import load_or_train, run_dir
from grokkit.training.device import resolve_device
from grokkit.training.train import train

_SKIP = {"ops"}  # set through --op / --ops
_OPS_HELP = {"--op": "one operation, e.g. add", "--ops": "comma-separated operations, e.g. add,mul"}


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("config fields (defaults: the papers' settings, or the --preset's)")
    for f in dataclasses.fields(Config):
        if f.name in _SKIP:
            continue
        g.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=field_parser(f),
            default=None,
            metavar=f.name.upper(),
            help=f"default {f.default!r}",
        )


def _config_from_args(args) -> Config:
    base = presets.PRESETS[args.preset]
    changes = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(Config)
        if f.name not in _SKIP and getattr(args, f.name) is not None
    }
    if args.ops is not None and args.op is not None:
        raise SystemExit("grokkit: give --op or --ops, not both")
    if args.ops is not None or args.op is not None:  # an empty value is an error, not the preset's ops
        flag, value = ("--ops", args.ops) if args.ops is not None else ("--op", args.op)
        ops = tuple(x.strip() for x in value.split(",")) if flag == "--ops" else (value.strip(),)
        if not all(ops):
            raise SystemExit(f"grokkit: {flag} expects {_OPS_HELP[flag]}, got {value!r}")
        changes["ops"] = ops
    try:
        return base.replace(**changes)
    except (ValueError, TypeError) as e:
        raise SystemExit(f"grokkit: {e}")


def cmd_train(args) -> int:
    cfg = _config_from_args(args)
    try:
        resolve_device(cfg.device)  # a device this machine lacks: one line now, not a traceback later
        if args.no_cache and args.save:  # a runs dir that cannot take the run: now, not after training
            writable_root(args.runs_dir)
    except (ValueError, RunsDirError) as e:
        raise SystemExit(f"grokkit: {e}")
    print(f"grokkit: training {'+'.join(cfg.ops)} mod {cfg.p} ({cfg.describe()})")
    if args.no_cache:
        run = train(cfg, progress=not args.quiet)
        path = run.save(run_dir(cfg, root=args.runs_dir)) if args.save else None
    else:
        run = load_or_train(cfg, root=args.runs_dir, progress=not args.quiet)
        path = run_dir(cfg, root=args.runs_dir)
    for op, t98, t90 in zip(
        cfg.ops, run.grok_step(cfg.stop_threshold or 0.98, cfg.stop_patience), run.grok_step(0.9, 1)
    ):
        verdict = f"grokked at step {t98}" if t98 is not None else "did not grok"
        print(
            f"  {op}: {verdict} (first >= 90% test accuracy: {t90}); test acc "
            f"{run.final('test_acc')[cfg.ops.index(op)]:.3f} at the last evaluation (step {run.history['step'][-1]})"
        )
    if run.diverged_at is not None:
        print(f"  diverged: a loss became NaN or inf at step {run.diverged_at}; training stopped there (a lower --lr?)")
    if run.history["step"][-1] < run.info["final_step"]:  # e.g. eval_every > max_steps
        print(f"  note: evaluated every {cfg.eval_every} steps, so not after step {run.history['step'][-1]}")
    print(f"  {run.info['final_step']} steps in {run.info['wall_time_s']:.1f} s on {run.info['device']}")
    if path:
        print(f"  saved: {path}")
    return 0


def cmd_scorecard(args) -> int:
    print(scorecard.write_page(args.out) if args.out else scorecard.write_page())
    return 0


def cmd_assignments(args) -> int:
    listing = build(args.out)
    for chapter, exs in listing.items():
        print(f"  {chapter}: " + ", ".join(f"{e.id} {e.function}" for e in exs))
    print(f"grokkit: student and instructor notebooks in {args.out} (see README.md there)")
    return 0


def cmd_grade(args) -> int:
    gradescope = args.format == "gradescope"  # the grokkit report is then written to its default place too
    report = grader.grade(
        args.submission,
        chapter=args.chapter,
        timeout=args.timeout,
        cell_timeout=args.cell_timeout,
        report=None if gradescope else args.report,
        sandboxed=not args.unsandboxed,
    )
    print(grader.summary(report))
    if gradescope:
        target = Path(args.report) if args.report else Path(args.submission).with_name("results.json")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(grader.gradescope(report), indent=1, ensure_ascii=False))
        except OSError as e:
            print(f"grokkit grade: could not write the Gradescope results to {target}: {e}", file=sys.stderr)
            return 2
        print(f"  gradescope results: {target}")
    return grader.exit_code(report)


def cmd_bundle(args) -> int:
    root = Path(args.root) if args.root else default_root()
    try:
        if args.action == "export":  # each RUN: a run directory, or a run key in the cache
            dirs = [Path(r) if Path(r).is_dir() else root / r for r in args.runs]
            for r, d in zip(args.runs, dirs):
                if not d.is_dir():
                    raise SystemExit(f"grokkit: {r}: neither a run directory nor a run key in {root}")
            out = export_bundle(dirs, args.out)
            print(f"grokkit: exported {len(dirs)} run(s) to {out} ({out.stat().st_size / 1e6:.1f} MB)")
            print("".join(f"  {d.name}  ({d})\n" for d in dirs), end="")
        else:
            keys = import_bundle(args.bundle, root=root)
            print(f"grokkit: imported {len(keys)} run(s) into {root}" + ("" if keys else " (all were there already)"))
            print("".join(f"  {k}\n" for k in keys), end="")
    except BundleError as e:
        raise SystemExit(f"grokkit: {e}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grokkit", description="Train and analyse grokking runs (The Grokking Book)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train",
        help="train one run (cached by config), print its grok step(s)",
        description="Train one run; the result is cached, so a second call loads it.",
    )
    t.add_argument("--op", default=None, help="operation (add, sub, mul, x2_y2, x2_xy_y2, x3_xy)")
    t.add_argument("--ops", default=None, help="comma-separated operations for a multi-task run")
    t.add_argument("--preset", default="single", choices=sorted(presets.PRESETS))
    t.add_argument("--runs-dir", default=None, help="cache directory (default $GROKKIT_RUNS or ~/.cache/grokkit/runs)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--no-cache", action="store_true", help="always train (and only save with --save)")
    t.add_argument("--save", action="store_true", help="with --no-cache: save the run anyway")
    _add_config_flags(t)
    t.set_defaults(func=cmd_train)
    a = sub.add_parser(
        "assignments",
        help="write student and instructor copies of the chapters",
        description="Student copies (no solution cells), instructor copies, a README; outputs cleared.",
    )
    a.add_argument("--out", default="_build/assignments", help="output directory (default %(default)s)")
    a.set_defaults(func=cmd_assignments)
    g = sub.add_parser(
        "grade",
        help="grade a submitted chapter notebook (exit 0 all passed, 1 not, 2 could not grade)",
        description="Run each submitted exercise function under bubblewrap on the inputs of the chapter's "
        "own check (recorded once from a trusted smoke run of the chapter) and compare its outputs with "
        "the reference's. Needs bubblewrap; --unsandboxed is for a student's own self-check.",
    )
    g.add_argument("submission", help="the submitted .ipynb")
    g.add_argument(
        "--chapter",
        default=None,
        help="chapter stem, e.g. 04_holographic (default: from the file name or the notebook's title)",
    )
    g.add_argument("--timeout", type=positive(float), default=600, help="overall limit in s (default %(default)s)")
    g.add_argument(
        "--cell-timeout",
        type=positive(int),
        default=120,
        help="limit per cell running submitted code or a check, in s (default %(default)s)",
    )
    g.add_argument(
        "--format",
        default="grokkit",
        choices=["grokkit", "gradescope"],
        help="grokkit: grokkit's JSON report; gradescope: Gradescope's autograder results.json (default %(default)s)",
    )
    g.add_argument(
        "--report",
        default=None,
        help="report path (default <stem>.grade.json beside the submission; with --format gradescope, "
        "results.json beside it: pass --report /autograder/results/results.json on Gradescope)",
    )
    g.add_argument(
        "--unsandboxed",
        action="store_true",
        help="a student's self-check without bubblewrap: the submitted code runs with your permissions "
        "and the report says it was not sandboxed (never use it for marks)",
    )
    g.set_defaults(func=cmd_grade)
    r = sub.add_parser(
        "reproduce",
        help="measure reproduction targets (papers-spec §6) into results/",
        description="Measure targets and store results/<target>.json; `all` runs every implemented one.",
    )
    r.add_argument(
        "targets", nargs="*", help="target number, slug or NN-slug (or `all`; or `settle`: the cpu-full plan)"
    )
    r.add_argument(
        "--profile",
        default="default",
        choices=["smoke", "default", "cpu-full", "paper"],
        help="cpu-full: the re-runs that settle a target on a 2-core CPU at the paper's coverage (long)",
    )
    r.add_argument(
        "--list", action="store_true", help="list the 25 targets with their stored verdicts (with `settle`: the plan)"
    )
    r.add_argument(
        "--budget-min",
        type=float,
        default=None,
        help="with `settle`: run the cpu-full plan's rows in order for at most this many minutes (resumable)",
    )
    r.add_argument("--no-page", action="store_true", help="do not regenerate book/scorecard.md")
    r.set_defaults(func=command.main)
    sc = sub.add_parser("scorecard", help="regenerate book/scorecard.md from results/")
    sc.add_argument("--out", default=None)
    sc.set_defaults(func=cmd_scorecard)
    b = sub.add_parser("bundle", help="share runs: export runs to one checked tar file, import one (path or URL)")
    b.set_defaults(func=cmd_bundle)
    bsub = b.add_subparsers(dest="action", required=True)
    be = bsub.add_parser("export", help="write runs to a bundle")
    be.add_argument("runs", nargs="+", metavar="RUN", help="a run directory, or a run key in the cache")
    be.add_argument("-o", "--out", required=True, metavar="FILE.tar", help="the bundle to write")
    bi = bsub.add_parser("import", help="import a bundle's runs into the cache (runs already there are kept)")
    bi.add_argument("bundle", metavar="FILE_OR_URL", help="a path, or a file://, http:// or https:// URL")
    for x in (be, bi):
        x.add_argument("--root", default=None, help="cache directory (default $GROKKIT_RUNS or ~/.cache/grokkit/runs)")
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (NotACheckout, reproduce.CorruptResult, RunsDirError) as e:  # e.g. the checkout or the runs dir
        raise SystemExit(f"grokkit: {e}")


if __name__ == "__main__":
    sys.exit(main())
