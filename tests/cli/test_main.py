"""The entry point's mapping of every way a command can end to one message and an exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.compare.synthetic import standard_store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return standard_store(tmp_path / "store.db")


@pytest.fixture
def list_runs_raises(monkeypatch: pytest.MonkeyPatch) -> Callable[[BaseException], None]:
    """Make `evalkit results list` raise the given exception from inside the command."""

    def install(exc: BaseException) -> None:
        def raising(*args: object, **kwargs: object) -> None:
            raise exc

        monkeypatch.setattr("evalkit.store.reader.list_runs", raising)

    return install


def test_debug_is_read_from_the_parsed_options_not_from_argv(store: Path, evalkit_cli) -> None:
    result = evalkit_cli("report", "nope", "--metric", "--debug", "--store", store)  # a metric named --debug
    assert result.exit_code == 2 and "Unknown run 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback_of_a_user_error(store: Path, evalkit_cli) -> None:
    result = evalkit_cli("--debug", "results", "show", "nope", "--store", store)
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr and "Unknown run 'nope'" in result.stderr


def test_debug_from_the_environment(store: Path, evalkit_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_DEBUG", "1")
    result = evalkit_cli("results", "show", "nope", "--store", store)
    assert result.exit_code == 2 and "Traceback" in result.stderr


def test_an_unexpected_exception_is_one_message_and_exit_1(store: Path, evalkit_cli, list_runs_raises) -> None:
    list_runs_raises(ValueError("boom"))
    result = evalkit_cli("results", "list", "--store", store)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Unexpected ValueError: boom\n") and "--debug" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unexpected_exception_with_debug_shows_the_traceback(store: Path, evalkit_cli, list_runs_raises) -> None:
    list_runs_raises(ValueError("boom"))
    result = evalkit_cli("--debug", "results", "list", "--store", store)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "ValueError: boom" in result.stderr


@pytest.mark.parametrize("code", [0, None, "bye"])
def test_a_sys_exit_from_code_evalkit_ran_is_never_success(store: Path, evalkit_cli, list_runs_raises,
                                                           code: object) -> None:
    list_runs_raises(SystemExit(code))
    result = evalkit_cli("results", "list", "--store", store)
    assert result.exit_code == 1
    assert f"sys.exit({code!r})" in result.stderr and "Traceback" not in result.stderr


def test_a_nonzero_sys_exit_keeps_its_code(store: Path, evalkit_cli, list_runs_raises) -> None:
    list_runs_raises(SystemExit(3))
    assert evalkit_cli("results", "list", "--store", store).exit_code == 3


def test_ctrl_c_is_interrupted_exit_130(store: Path, evalkit_cli, list_runs_raises) -> None:
    list_runs_raises(KeyboardInterrupt())
    result = evalkit_cli("results", "list", "--store", store)
    assert result.exit_code == 130 and "Interrupted." in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "code", "text"), [
    (["--help"], 0, "Commands:"),
    (["--version"], 0, "version"),
    (["results", "--help"], 0, "export"),
    (["nope"], 2, "No such command 'nope'"),
    (["compare", "base"], 2, "at least two"),
])
def test_click_exits_keep_their_codes(args: list[str], code: int, text: str, store: Path, evalkit_cli) -> None:
    result = evalkit_cli(*args, *(["--store", store] if args[0] == "compare" else []))
    assert result.exit_code == code and text in result.output


def test_a_missing_models_extra_says_what_to_install(store: Path, evalkit_cli, list_runs_raises) -> None:
    list_runs_raises(ModuleNotFoundError("No module named 'torch'", name="torch"))
    result = evalkit_cli("results", "list", "--store", store)
    assert result.exit_code == 2 and "pip install 'evalkit[models]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_another_missing_module_is_unexpected(store: Path, evalkit_cli, list_runs_raises) -> None:
    list_runs_raises(ModuleNotFoundError("No module named 'nowhere'", name="nowhere"))
    result = evalkit_cli("results", "list", "--store", store)
    assert result.exit_code == 1 and "Unexpected ModuleNotFoundError" in result.stderr


@pytest.mark.parametrize(("raised", "status"), [(SystemExit(None), 0), (SystemExit(0), 0), (SystemExit(2), 2),
                                                (SystemExit("a message"), 1)])
def test_console_main_with_a_stray_thread_keeps_sys_exit_meaning(monkeypatch: pytest.MonkeyPatch, capsys,
                                                                 raised: SystemExit, status: int) -> None:
    """Issue 24 item 11: on the stray-thread path SystemExit(None) (success) ended the process with 1."""
    import threading

    from evalkit.cli import main as entry

    class Ended(Exception):
        pass

    def os_exit(code: int) -> None:
        raise Ended(code)

    def main() -> None:
        raise raised

    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="test-stray")
    thread.start()
    monkeypatch.setattr(entry, "main", main)
    monkeypatch.setattr(entry, "STRAY_THREAD_GRACE_S", 0.01)
    monkeypatch.setattr("atexit._run_exitfuncs", lambda: None)
    monkeypatch.setattr("os._exit", os_exit)
    try:
        with pytest.raises(Ended) as ended:
            entry.console_main()
    finally:
        release.set()
        thread.join()
    assert ended.value.args == (status,)
    assert "test-stray" in capsys.readouterr().err
