"""A FIFO, or a `*.yaml` / data file symlinked to a device, never hangs a command (issue 24 item 4):
listings skip it with a warning, naming it directly is exit 2 saying what it is."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.errors import TaskError
from evalkit.regular_files import NotRegularFileError, read_regular_bytes
from evalkit.tasks.yaml_source import read_task_yaml
from tests.tasks.conftest import WriteTask


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """Old code blocked forever on a FIFO and filled memory from /dev/zero: fail after 20 s or
    2 GiB more address space instead of hanging the suite or the machine."""

    def expired(*_: object) -> None:
        raise TimeoutError("hung reading a FIFO or device")

    previous = signal.signal(signal.SIGALRM, expired)
    limits = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + (2 << 30), limits[1]))
    signal.alarm(20)
    yield
    signal.alarm(0)
    resource.setrlimit(resource.RLIMIT_AS, limits)
    signal.signal(signal.SIGALRM, previous)


def _address_space() -> int:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:"))


@pytest.fixture
def special_folder(write_task: WriteTask) -> Path:
    """A task folder holding one good task, a FIFO named fifo.yaml and zero.yaml -> /dev/zero."""
    path = write_task("tasks/t", name="good")
    os.mkfifo(path.parent / "fifo.yaml")
    (path.parent / "zero.yaml").symlink_to("/dev/zero")
    return path.parent


def test_tasks_list_skips_fifo_and_device_with_a_warning(evalkit_cli, special_folder: Path) -> None:
    result = evalkit_cli("tasks", "list", "--include-path", special_folder)
    assert result.exit_code == 0, result.output
    assert "good" in result.stdout
    assert "fifo.yaml' is a FIFO" in result.stderr
    assert "zero.yaml' is a character device" in result.stderr


def test_tasks_validate_directory_skips_them(evalkit_cli, special_folder: Path) -> None:
    result = evalkit_cli("tasks", "validate", special_folder)
    assert result.exit_code == 0, result.output
    assert "good: 2 evaluation documents" in result.stdout
    assert "is a FIFO" in result.stderr


@pytest.mark.parametrize(("name", "kind"), [("fifo.yaml", "a FIFO"), ("zero.yaml", "a character device")])
def test_naming_one_directly_says_what_it_is(evalkit_cli, special_folder: Path, name: str, kind: str) -> None:
    for command in (("tasks", "show"), ("tasks", "validate")):
        result = evalkit_cli(*command, special_folder / name)
        assert result.exit_code == 2, result.output
        assert f"is {kind}" in result.output and "not a regular file" in result.output
        assert "does not exist" not in result.output


def test_include_of_a_fifo_is_refused(write_task: WriteTask) -> None:
    path = write_task(extra="include: pipe.yaml\n")
    os.mkfifo(path.parent / "pipe.yaml")
    with pytest.raises(TaskError, match="is a FIFO"):
        read_task_yaml(path)


def test_data_file_on_a_device_is_refused(evalkit_cli, write_task: WriteTask) -> None:
    path = write_task(extra="dataset_kwargs:\n  data_files:\n    test: /dev/zero\n")
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "data file '/dev/zero'" in result.output and "character device" in result.output


def test_data_file_glob_matching_a_fifo_is_refused(evalkit_cli, write_task: WriteTask) -> None:
    path = write_task(extra="dataset_kwargs:\n  data_files:\n    test: '*.jsonl'\n")
    os.mkfifo(path.parent / "pipe.jsonl")
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "pipe.jsonl" in result.output and "is a FIFO" in result.output


def test_reader_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p")
    with pytest.raises(NotRegularFileError, match="FIFO"):
        read_regular_bytes(tmp_path / "p", 100)
