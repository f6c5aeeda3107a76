"""How the papers write numbers: "2.5–3.2k", "7%", "5e-3"."""

from __future__ import annotations


def k(n) -> str:
    """Thousands, as the papers write them: 2500 -> '2.5' (append the 'k')."""
    return f"{n / 1000:g}"


def krange(lo, hi, sep: str = "–") -> str:
    """2500, 3200 -> '2.5–3.2k'."""
    return f"{k(lo)}{sep}{k(hi)}k"


def k1(n) -> str:
    """21133 -> '21.1k'."""
    return f"{n / 1000:.1f}k"


def pct(x) -> str:
    """0.07 -> '7%'."""
    return f"{x:.0%}"


def pct_range(lo, hi) -> str:
    """0.1, 0.25 -> '10–25%'."""
    return f"{pct(lo)[:-1]}–{pct(hi)}"


def sci(x) -> str:
    """0.005 -> '5e-3'."""
    return f"{x:.0e}".replace("e-0", "e-")


def minus(x, digits: int = 2) -> str:
    """-0.91 -> '−0.91' (a typographic minus)."""
    return f"{x:.{digits}f}".replace("-", "−")


def grid(values) -> str:
    """(50, 100) -> '{50, 100}'."""
    return "{" + ", ".join(str(v) for v in values) + "}"


def steps_fmt(x) -> str:
    """A step count for a statistic: 11234 -> '11.2k', 950 -> '950'."""
    return f"{x / 1000:.1f}k" if abs(x) >= 1000 else f"{x:.0f}"
