"""`evalkit --help` and `evalkit tasks list` must answer without importing torch or transformers."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from evalkit.cli.main import main
try:
    main({args!r})
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = sorted(m for m in ("torch", "transformers", "peft", "lm_eval.evaluator", "datasets") if m in sys.modules)
print("HEAVY:", heavy)
"""


def _heavy_modules(args: list[str]) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_help_is_light() -> None:
    assert _heavy_modules(["--help"]) == "HEAVY: []"
    assert _heavy_modules(["run", "--help"]) == "HEAVY: []"


def test_tasks_list_is_light() -> None:
    assert _heavy_modules(["tasks", "list"]) == "HEAVY: []"


def test_import_evalkit_is_light() -> None:
    code = ("import sys, evalkit; print(sorted(m for m in ('torch', 'transformers', 'datasets', 'pandas', "
            "'lm_eval.evaluator') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_evalkit_registers_the_backend_with_lm_eval() -> None:
    code = "import evalkit; from lm_eval.api.registry import model_registry; print('evalkit' in model_registry)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
