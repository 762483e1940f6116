"""--processes at the door (no processes started) and the pieces the processes agree with."""

from __future__ import annotations

import pytest

from tests.distributed.conftest import SENTIMENT


@pytest.mark.parametrize("count", ["0", "-2"])
def test_fewer_than_one_process_is_bad_input(tiny_model_dir, tmp_path, evalkit_cli, count):
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--processes", count,
                         "--store", tmp_path / "r.db")
    assert result.exit_code == 2, result.output
    assert f"--processes {count}: the number of processes must be at least 1" in result.stderr
    assert not (tmp_path / "r.db").exists()


def test_processes_with_the_ray_executor_is_bad_input(tiny_model_dir, tmp_path, evalkit_cli):
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--processes", "2", "--executor", "ray",
                         "--store", tmp_path / "r.db")
    assert result.exit_code == 2, result.output
    assert "cannot be combined with --executor ray" in result.stderr


def test_one_process_is_the_plain_run(tiny_model_dir, tmp_path, evalkit_cli):
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "4", "--processes", "1",
                         "--store", tmp_path / "r.db")
    assert result.exit_code == 0, result.output
    assert "share 1 of" not in result.output and "toy_sentiment" in result.output


def test_the_relaunched_command_line_drops_only_processes():
    from evalkit.engine.processes import launch_command_line, without_processes_option

    argv = ["run", "-t", "sst2", "--processes", "4", "--limit", "10", "--processes=3", "--name", "x"]
    assert without_processes_option(argv) == ["run", "-t", "sst2", "--limit", "10", "--name", "x"]
    launched = launch_command_line(["run", "-t", "sst2"], 4)
    assert launched[:3] == ["--multi_gpu", "--num_processes", "4"]  # accelerate's torchrun path (gloo on CPU)
    assert launched[-4:] == ["--module", "evalkit", "run", "-t", "sst2"][-4:]


def test_shares_are_balanced_by_tokens_and_the_same_on_every_process():
    from evalkit.scoring.distributed import balanced_shares

    costs = [50, 10, 40, 30, 20, 20, 5]
    shares = balanced_shares(costs, 2)
    assert shares == balanced_shares(list(costs), 2)
    assert sorted(g for share in shares for g in share) == list(range(len(costs)))
    loads = [sum(costs[g] for g in share) for share in shares]
    assert abs(loads[0] - loads[1]) <= max(costs[g] for g in shares[0] + shares[1] if costs[g] < 50)
    assert balanced_shares(costs, 1) == [sorted(range(len(costs)), key=lambda g: -costs[g])]


def test_choices_of_one_context_stay_together_and_chunks_keep_them_whole():
    from lm_eval.api.instance import Instance

    from evalkit.scoring.distributed import chunks, request_groups

    requests = [Instance("loglikelihood", {}, (ctx, c), i)
                for i, (ctx, c) in enumerate([("a", " x"), ("b", " x"), ("a", " y"), ("b", " y"), ("c", " x")])]
    groups = request_groups("loglikelihood", requests)
    assert groups == [[0, 2], [1, 3], [4]]
    assert chunks(groups, 2) == [[0, 2, 1, 3], [4]]
    assert chunks([], 8) == []


def test_results_of_different_request_lists_are_refused():
    from evalkit.errors import RunFailedError
    from evalkit.scoring.distributed import merged

    assert merged([("d", [1], ["b"]), ("d", [0, 2], ["a", "c"])], 3, "generate_until") == ["a", "b", "c"]
    with pytest.raises(RunFailedError, match="built different generate_until request lists"):
        merged([("d", [0], ["a"]), ("e", [1], ["b"])], 2, "generate_until")
    with pytest.raises(RunFailedError, match="returned 1 generate_until results for 2 requests"):
        merged([("d", [0], ["a"]), ("d", [], [])], 2, "generate_until")


def test_the_launcher_exits_with_the_first_failed_process_code():
    from types import SimpleNamespace

    from evalkit.engine.processes import CrashHook, first_failure_code

    class Failed(Exception):
        def __init__(self, code: int) -> None:
            self.code = code

        def get_first_failure(self):
            return 1, SimpleNamespace(exitcode=self.code)

    assert first_failure_code(Failed(2)) == 2
    assert first_failure_code(Failed(-9)) == 137  # killed by SIGKILL
    assert first_failure_code(ValueError("other")) is None
    killed: list[int] = []
    hook = CrashHook(1, "1:2", kill=lambda: killed.append(1))
    hook.chunk_done()
    assert not killed
    hook.chunk_done()
    assert killed == [1]
    assert CrashHook(0, "1:2").after is None


def test_more_processes_than_cores_is_bad_input_before_anything_starts(tiny_model_dir, tmp_path, evalkit_cli):
    from evalkit.engine.processes import local_devices

    devices, kind = local_devices()
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--processes", str(devices + 1),
                         "--store", tmp_path / "r.db")
    assert result.exit_code == 2, result.output
    assert f"more than this machine's {devices} {kind}" in result.stderr and "accelerate launch" in result.stderr
    assert not (tmp_path / "r.db").exists()
