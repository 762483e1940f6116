"""Bias measurement: the built-in bias tasks as one suite name (`-t bias`)."""

from evalkit.bias.suites import SUITES, expand_suites

__all__ = ["SUITES", "expand_suites"]
