"""Closed-loop policy evaluation: seeded episodes, per-episode records, success rate with a
Wilson 95 % interval, resumable runs, and imagination-vs-execution motion similarity."""

from twin.evaluate.stats import wilson_interval

__all__ = ["wilson_interval"]
