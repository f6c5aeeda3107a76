"""Measurements on runs and tensors: pure functions, no training (Chapters 1–5)."""
from grokkit.geometry.fourier import fourier_power, key_frequencies

__all__ = ["fourier_power", "key_frequencies"]
