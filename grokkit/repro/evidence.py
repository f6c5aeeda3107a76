"""Where a target's evidence is, for the scorecard page: the chapter section that measures it, the command
that re-measures it, the runs behind it (their run-cache keys, per stored profile) and, where a chapter's
step scrubber shows one of those runs, the steps to scrub to.

    ev = evidence(get("4"), load(get("4")), "paper")
    ev.href      '../notebooks/01_grokking.html#six-operations'   (relative to book/scorecard.html)
    ev.command   'python -m grokkit reproduce 04-single-task-grokking --profile paper'
    ev.runs      (('paper', (key, ...)), ('default', (key, ...)))   the deciding profile first
    ev.scrub     Scrub(href, '01_grokking', 'add, seed 42', 'default', first, last)

The links are relative paths of the built site (the page is book/scorecard.html, chapters notebooks/*.html,
published runs runs/*.tar): the site's browser check follows every one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from grokkit import book
from grokkit.repro.helpers import CH1
from grokkit.repro.reproduce import SCALE_ORDER
from grokkit.repro.targets import Target

# the chapters with a step scrubber: the heading of its section, and the config of the run it shows at a profile
SCRUBBERS = {CH1: ("Inside the plateau: scrub through training", lambda profile: book.chapter1(profile).base)}
CHAPTER_PROFILES = ("smoke", "default", "paper")  # the profiles a chapter is executed at (cpu-full is not one)


def anchor(heading: str) -> str:
    """The HTML id Sphinx gives a section with this heading (docutils' `make_id` of its text): the heading
    without its Markdown marks ($, `, *), lower case, ASCII only, each run of other characters one hyphen,
    no leading digits or hyphens ("2. Weight decay ($a+b$)" -> "weight-decay-a-b")."""
    text = re.sub(r"[$`*]", "", heading).lower()
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", " ".join(text.split()))
    return re.sub(r"^[-0-9]+|-+$", "", text)


def chapter_href(chapter: str, section: str | None = None) -> str:
    """A chapter's page (and section) relative to the scorecard page."""
    return f"../notebooks/{chapter}.html" + (f"#{anchor(section)}" if section else "")


def chapter_label(chapter: str, section: str | None = None) -> str:
    """ "Chapter 1" or "Chapter 1, § Six operations" (the heading's own number dropped, its Markdown marks too)."""
    label = f"Chapter {int(chapter[:2])}"
    if section:
        label += ", § " + re.sub(r"^\d+\.\s*", "", re.sub(r"[$`*]", "", section))
    return label


def command(t: Target, profile: str) -> str:
    """The command that re-measures target `t` at `profile` and stores it in results/."""
    return f"python -m grokkit reproduce {t.name} --profile {profile}"


@dataclass(frozen=True)
class Scrub:
    """Steps `first`–`last` of the run a chapter's step scrubber shows (`run`: its op and seed, at `profile`)."""

    href: str
    chapter: str
    run: str
    profile: str
    first: int
    last: int


@dataclass(frozen=True)
class Evidence:
    chapter: str | None
    section: str | None
    href: str | None  # the chapter section (or the chapter) that measures it, relative to the scorecard page
    label: str | None
    command: str | None  # re-measures the deciding profile
    runs: tuple  # ((profile, (key, ...)), ...): the stored profiles with runs, the deciding one first
    scrub: Scrub | None

    @property
    def keys(self) -> tuple:
        """Every run key behind the target, over its stored profiles (first seen first)."""
        return tuple(dict.fromkeys(k for _, keys in self.runs for k in keys))


def evidence(t: Target, stored: dict, profile: str | None) -> Evidence:
    """Target `t`'s evidence from its stored entries (`grokkit.repro.reproduce.load`: {profile: entry});
    `profile`: the one that decides its verdict (None: nothing stored)."""
    order = ([profile] if profile else []) + [p for p in reversed(SCALE_ORDER) if p != profile]
    runs = tuple((p, tuple(stored[p].get("configs") or ())) for p in order if p in stored and stored[p].get("configs"))
    return Evidence(
        t.chapter,
        t.section if t.chapter else None,
        chapter_href(t.chapter, t.section) if t.chapter else None,
        chapter_label(t.chapter, t.section) if t.chapter else None,
        command(t, profile) if profile and t.measure is not None else None,
        runs,
        _scrub(t, stored),
    )


def _scrub(t: Target, stored: dict) -> Scrub | None:
    """The steps to scrub to where the chapter's scrubber shows one of the target's stored runs."""
    if t.scrub is None or t.chapter not in SCRUBBERS:
        return None
    section, config_at = SCRUBBERS[t.chapter]
    for p in CHAPTER_PROFILES[::-1]:
        entry = stored.get(p) or {}
        cfg = config_at(p)
        if cfg.key() not in (entry.get("configs") or ()):
            continue
        try:
            first, last = t.scrub(entry["measured"], cfg.ops[0], cfg.seed)
        except (KeyError, TypeError, ValueError):
            continue
        if first is not None and last is not None:
            run = f"{cfg.ops[0]}, seed {cfg.seed}"
            return Scrub(chapter_href(t.chapter, section), t.chapter, run, p, int(first), int(last))
    return None
