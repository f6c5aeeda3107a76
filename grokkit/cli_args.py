"""Argument converters of the command line (grokkit.cli): one per config field type, positive numbers."""

from __future__ import annotations

import argparse
import dataclasses


def field_parser(f: dataclasses.Field):
    """A converter for one config field, from its annotation; a bad value names the field and the type."""
    hint, flag = str(f.type), "--" + f.name.replace("_", "-")

    def typed(kind: str, convert, optional: bool):
        def parse(s: str):
            if optional and s.lower() == "none":
                return None
            try:
                return convert(s)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{flag} expects {kind}{' or none' if optional else ''}, got {s!r}")

        parse.__name__ = kind  # what argparse would otherwise print as "<lambda>"
        return parse

    if "tuple[str" in hint:  # --decay-exclude in_proj,embed -> ("in_proj", "embed"); "" or none -> ()
        return typed("comma-separated names", _names, False)
    if "tuple[float" in hint:
        return typed("comma-separated numbers", lambda s: tuple(float(x) for x in s.split(",")), False)
    if hint.startswith("bool"):
        return typed("true or false", _bool, False)
    if "float" in hint:
        return typed("a number", float, "None" in hint)
    if "int" in hint:
        return typed("an integer", int, "None" in hint)
    return str


def _names(s: str) -> tuple[str, ...]:
    if s.strip().lower() in ("", "none"):
        return ()
    names = tuple(x.strip() for x in s.split(","))
    if not all(names):
        raise ValueError(s)
    return names


def positive(kind):
    def parse(s: str):
        v = kind(s)
        if not v > 0:
            raise ValueError(s)
        return v

    parse.__name__ = f"positive {kind.__name__}"  # argparse: "invalid positive int value: '0'"
    return parse


def _bool(s: str) -> bool:
    words = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
    if s.lower() not in words:
        raise ValueError(s)
    return words[s.lower()]
