"""The composite action's shell steps, run as the runner runs them (bash -eo pipefail) with `evalkit`
and `gh` replaced by scripts that record what they were asked: the arguments the gate gets, the
report kept for the summary and the comment, the comment updated in place or posted, the exit status."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci.test_github_schemas import ACTION

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("jq") is None,
                                reason="needs bash and jq (both on GitHub's runners)")

MARKER = "<!-- evalkit-gate: nightly -->"
# `gh` as far as the comment step uses it: `api --paginate URL --jq FILTER` lists $COMMENTS through jq
# (gh's --jq prints strings raw), `api --method M URL --input FILE` records the request.
GH = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
if [ -n "$GH_FAILS" ]; then echo "HTTP 403" >&2; exit 1; fi
if [ "$2" = --paginate ]; then jq -r "$5" "$COMMENTS"; exit; fi
cp "$6" "$CALLS.body"
"""
EVALKIT = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$CALLS"
printf '<!-- evalkit-gate: default -->\\n\\n## evalkit gate\\n' >> "$GITHUB_STEP_SUMMARY"
echo "::error title=FAIL::dropped"
exit 1
"""


def _step(name: str) -> str:
    steps = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]
    return next(step["run"] for step in steps if step.get("name") == name)


def _run(name: str, tmp_path: Path, stubs: dict[str, str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run the action step `name` as the runner would, with `stubs` first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for command, text in stubs.items():
        (bin_dir / command).write_text(text, encoding="utf-8")
        (bin_dir / command).chmod(0o755)
    (bin_dir / "python").unlink(missing_ok=True)
    (bin_dir / "python").symlink_to(sys.executable)
    script = tmp_path / f"{name}.sh"
    script.write_text(_step(name), encoding="utf-8")
    full_env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path),
                "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
                "GITHUB_REPOSITORY": "org/repo", "CALLS": str(tmp_path / "calls"), **env}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=full_env,
                          capture_output=True, text=True, timeout=60)


def _outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_the_gate_step_passes_the_inputs_and_keeps_the_exit_status_and_the_report(tmp_path: Path) -> None:
    result = _run("evalkit gate", tmp_path, {"evalkit": EVALKIT}, BASELINE="ci/base line.json",
                  CANDIDATE="candidate", STORE="", POLICY="", MAX_DROP="0.02", COMMENT_ID="default",
                  EXTRA_ARGS="--metric acc  --allow-missing")
    assert result.returncode == 0, result.stderr  # the verdict is the last step's
    assert result.stdout == "::error title=FAIL::dropped\n"  # the annotations reach the log
    assert (tmp_path / "calls").read_text(encoding="utf-8").splitlines() == [
        "gate", "--baseline", "ci/base line.json", "--candidate", "candidate", "--format", "github",
        "--max-drop", "0.02", "--metric", "acc", "--allow-missing"]
    outputs = _outputs(tmp_path)
    assert outputs["exit-code"] == "1"
    assert Path(outputs["report"]).read_text(encoding="utf-8").startswith("<!-- evalkit-gate: default -->\n")
    assert not (tmp_path / "summary.md").exists()  # the summary step writes it, once


def test_the_gate_step_passes_store_policy_and_a_comment_id(tmp_path: Path) -> None:
    _run("evalkit gate", tmp_path, {"evalkit": EVALKIT}, BASELINE="b", CANDIDATE="c", STORE="s.db",
         POLICY="ci/policy.yaml", MAX_DROP="", COMMENT_ID="nightly", EXTRA_ARGS="")
    assert (tmp_path / "calls").read_text(encoding="utf-8").splitlines()[7:] == [
        "--store", "s.db", "--policy", "ci/policy.yaml", "--comment-id", "nightly"]


@pytest.mark.parametrize("code", ["0", "1", "2"])
def test_the_verdict_step_ends_with_the_gates_exit_status(tmp_path: Path, code: str) -> None:
    assert _run("Verdict", tmp_path, {}, CODE=code).returncode == int(code)


def _comment(tmp_path: Path, comments: list[dict], report_text: str, **env: str) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "evalkit-gate.abc"
    report.write_text(report_text, encoding="utf-8")
    (tmp_path / "comments.json").write_text(json.dumps(comments), encoding="utf-8")
    return _run("Pull-request comment", tmp_path, {"gh": GH}, GH_TOKEN="t", PR="7", REPORT=str(report),
                COMMENTS=str(tmp_path / "comments.json"), **{"GH_FAILS": "", **env})


def test_the_comment_that_starts_with_the_marker_is_updated_in_place(tmp_path: Path) -> None:
    comments = [{"id": 11, "body": f"> {MARKER}\nquoted by someone"},
                {"id": 12, "body": "<!-- evalkit-gate: nightly-gpu -->\nanother gate's"},
                {"id": 13, "body": f"{MARKER}\n\n## the earlier report"}]
    report = f"{MARKER}\n\n## evalkit gate: 50% worse\n"
    result = _comment(tmp_path, comments, report)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text(encoding="utf-8").splitlines()
    assert calls[1].startswith("api --method PATCH repos/org/repo/issues/comments/13 --input ")
    assert json.loads((tmp_path / "calls.body").read_text(encoding="utf-8")) == {"body": report}


def test_without_an_earlier_comment_one_is_posted(tmp_path: Path) -> None:
    result = _comment(tmp_path, [{"id": 12, "body": "<!-- evalkit-gate: nightly-gpu -->\n"}], f"{MARKER}\nx\n")
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text(encoding="utf-8").splitlines()
    assert calls[0] == "api --paginate repos/org/repo/issues/7/comments --jq .[] | select(.body | startswith(env.MARKER)) | .id"
    assert calls[1].startswith("api --method POST repos/org/repo/issues/7/comments --input ")


def test_a_report_too_long_for_a_comment_is_cut(tmp_path: Path) -> None:
    _comment(tmp_path, [], MARKER + "\n" + "x" * 70_000)
    body = json.loads((tmp_path / "calls.body").read_text(encoding="utf-8"))["body"]
    assert body.startswith(MARKER) and len(body) < 65_536 and "summary page" in body


def test_a_comment_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    result = _comment(tmp_path, [], f"{MARKER}\n", GH_FAILS="1")
    assert result.returncode == 0
    assert result.stdout.startswith("::warning title=evalkit gate::Could not write the pull-request comment")
