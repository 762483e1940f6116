"""compare, gate, report and results export work when torch, transformers, peft and lm_eval
cannot be imported (the core install a CI gate uses), and only the HTML report loads matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import json, sys

    HEAVY = {"torch", "transformers", "peft", "lm_eval"}

    class BlockHeavy:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HEAVY:
                raise ImportError(f"blocked heavy import: {name}")
            return None

    sys.meta_path.insert(0, BlockHeavy())
    for name in list(sys.modules):
        if name.split(".")[0] in HEAVY:
            del sys.modules[name]

    from evalkit.cli.main import main

    store, out = sys.argv[1], sys.argv[2]

    def code(*args):
        try:
            main(list(args) + ["--store", store])
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    codes = {
        "export": code("results", "export", "base", "-o", out + "/base.json"),
        "compare": code("compare", "base", "noise", "drop", "--flips", "1"),
        "gate_pass": code("gate", "--baseline", out + "/base.json", "--candidate", "noise", "--max-drop", "0.1"),
        "gate_inconclusive": code("gate", "--baseline", "base", "--candidate", "noise"),
        "gate_fail": code("gate", "--baseline", "base", "--candidate", "drop", "--format", "markdown"),
        "report_md": code("report", "base", "drop", "-o", out + "/r.md"),
    }
    matplotlib_before_html = "matplotlib" in sys.modules
    codes["report_html"] = code("report", "base", "drop", "-o", out + "/r.html")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    print("RESULT " + json.dumps({"codes": codes, "matplotlib_before_html": matplotlib_before_html, "heavy": heavy}))
""")


def test_light_commands_run_without_heavy_libraries(store: Path, tmp_path: Path) -> None:
    _check_light_commands(str(store), tmp_path)


def test_light_commands_read_a_postgresql_team_store_without_heavy_libraries(pg_url: str, tmp_path: Path) -> None:
    """The core install plus the postgres extra gates against a team store: psycopg, no torch."""
    from tests.compare.synthetic import standard_store

    standard_store(pg_url)  # type: ignore[arg-type]  (a URL is a store location like a path)
    _check_light_commands(pg_url, tmp_path)


def _check_light_commands(store: str, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, store, str(tmp_path)], capture_output=True,
                            text=True, timeout=300, cwd=Path(__file__).resolve().parents[2], check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    outcome = json.loads(line[len("RESULT "):])
    assert outcome["codes"] == {"export": 0, "compare": 0, "gate_pass": 0, "gate_inconclusive": 3, "gate_fail": 1, "report_md": 0,
                                "report_html": 0}
    assert outcome["heavy"] == [] and outcome["matplotlib_before_html"] is False
    assert "blocked heavy import" not in result.stderr
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count("data:image/png") >= 1
