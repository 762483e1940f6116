"""Interoperability with other evaluation tools: lm-eval's output imported into the store
(`evalkit results import`), runs exported in the Every Eval Ever schema (`--format eee`), and
lm-eval's own command line with evalkit's backend (`evalkit lm-eval`).

The modules are imported by the commands that use them; this package imports nothing heavy.
"""
