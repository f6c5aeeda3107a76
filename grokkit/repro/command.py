"""`python -m grokkit reproduce`: measure targets into results/, or run the cpu-full plan (`settle`)."""

from __future__ import annotations

from grokkit.engines.sweep import run_many
from grokkit.repro import reproduce, scorecard, settle
from grokkit.repro.targets import TARGETS, get


def main(args) -> int:
    """The command's body (arguments: grokkit.cli)."""
    if args.targets == ["settle"]:  # the cpu-full plan, in order, within a budget
        if args.list:
            print(settle.listing())
            return 0
        if args.budget_min is None:
            raise SystemExit("grokkit: reproduce settle needs --budget-min N (or --list to see the plan)")
        try:
            settle.run_plan(args.budget_min)
        except ValueError as e:
            raise SystemExit(f"grokkit: {e}")
        if not args.no_page:
            print(f"scorecard: {scorecard.write_page()}")
        return 0
    if args.budget_min is not None:
        raise SystemExit("grokkit: --budget-min belongs to `reproduce settle`")
    if args.list:
        print(reproduce.list_targets())
        return 0
    if not args.targets:
        raise SystemExit("grokkit: name a target (or `all`, or `settle`, or --list to see the 25)")
    try:
        chosen = (
            [t for t in TARGETS if t.measure is not None and args.profile in t.profiles]
            if args.targets == ["all"]
            else [get(n) for n in args.targets]
        )
    except KeyError as e:
        raise SystemExit(f"grokkit: {e.args[0]}")
    if args.profile == "cpu-full":  # train every run the chosen targets need in one pool (both cores busy)
        pool = settle.members([t.id for t in chosen if "cpu-full" in t.profiles])
        if pool:  # long runs of unequal length: whole runs on worker processes, the longest first
            print(f"grokkit: cpu-full: {len(pool)} runs for {', '.join(t.name for t in chosen)} (cached ones load)")
            run_many(pool)
    status = 0
    for t in chosen:
        try:
            e = reproduce.run(t, args.profile)
        except (LookupError, ValueError) as err:
            print(f"{t.name}: skipped ({err})")
            status = 1
            continue
        print(f"{t.name} [{args.profile}]: {e['verdict']} ({e['wall_time_s']} s)")
        for c in e["checks"]:
            print(f"   {scorecard.MARK[c['passed']]} [{c['kind']}] {c['question']}")
    if not args.no_page:
        print(f"scorecard: {scorecard.write_page()}")
    return status
