"""The v1 -> v2 migration, run for real on a store built with the v1 DDL and v1's way of writing rows."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from pathlib import Path

import pytest

from evalkit.errors import StoreError
from evalkit.plan import FineTuneOptions
from evalkit.store import migrations
from evalkit.store.reader import run_row, samples_frame
from evalkit.store.schema import SCHEMA_VERSION, open_for_reading, open_for_writing
from tests.store.v1_store import V1_OPTIONS, write_v1_store

RUN = "20250101-000000-aaaaaa"


def _dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
                for t in ("runs", "cells", "metrics", "samples")}
    finally:
        conn.close()


def _version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        conn.close()


def test_schema_version_is_three() -> None:
    assert SCHEMA_VERSION == 3 and [v for v, _ in migrations.MIGRATIONS] == [2, 3]


def test_opening_a_v1_store_for_writing_migrates_it_to_typed_config(tmp_path: Path) -> None:
    path = write_v1_store(tmp_path / "v1.db")
    before = _dump(path)
    open_for_writing(path).close()
    after = _dump(path)
    assert _version(path) == "3"
    config = json.loads(after["runs"][0][-1])
    assert config == {"models": ["smollm2-135m"], "tasks": ["sst2"], "settings": ["zero-shot", "fine-tuned"],
                      "limit": None, "seed": 1234, "batch_size": "auto", "dtype": "float32",
                      "finetune": dataclasses.asdict(V1_OPTIONS["finetune"]),
                      "include": "/data/tasks",  # str(Path) is not a repr: kept as the string it was
                      "scale": -0.5}
    assert config["finetune"]["epochs"] == 2.0 and config["finetune"]["max_steps"] is None
    # everything but the config and the NaN score token is exactly as it was
    assert [r[:-1] for r in after["runs"]] == [r[:-1] for r in before["runs"]]
    assert after["cells"] == before["cells"] and after["metrics"] == before["metrics"]
    assert math.isinf(after["metrics"][1][6])
    nan_rows = [i for i, row in enumerate(before["samples"]) if "NaN" in row[8]]
    assert nan_rows == [2, 6]
    for i, (old, new) in enumerate(zip(before["samples"], after["samples"])):
        assert new[:8] == old[:8] and new[9] == old[9] and new[10:] == (None,)  # v3: no cluster
        assert new[8] == ('{"acc": null}' if i in nan_rows else old[8])


def test_reading_a_v1_store_sees_v2_and_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = write_v1_store(tmp_path / "v1.db")
    before = path.read_bytes()
    conn = open_for_reading(path)
    try:
        config = json.loads(run_row(conn, RUN).config_json)
        assert config["settings"] == ["zero-shot", "fine-tuned"] and config["limit"] is None
        assert samples_frame(conn, RUN).scores.tolist()[2] == {"acc": None}
    finally:
        conn.close()
    assert path.read_bytes() == before and _version(path) == "1"


def test_results_commands_read_a_v1_store_without_changing_it(tmp_path: Path, evalkit_cli) -> None:
    path = write_v1_store(tmp_path / "v1.db")
    before = path.read_bytes()
    listed = evalkit_cli("results", "list", "--all", "--store", path)
    shown = evalkit_cli("results", "show", "v1-0", "--store", path)
    assert listed.exit_code == 0 and RUN in listed.stdout, listed.output
    assert shown.exit_code == 0 and RUN in shown.stdout, shown.output
    assert path.read_bytes() == before


def test_a_failing_migration_rolls_back_and_leaves_version_one(tmp_path: Path, monkeypatch) -> None:
    path = write_v1_store(tmp_path / "v1.db")
    before = _dump(path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE runs SET config_json = 'half-done'")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(migrations, "MIGRATIONS", [(2, broken)])
    with pytest.raises(StoreError, match="migrating it from version 1 failed"):
        open_for_writing(path)
    assert _dump(path) == before and _version(path) == "1"


@pytest.mark.parametrize(("text", "typed"), [
    ("['zero-shot', 'fine-tuned']", ["zero-shot", "fine-tuned"]),
    ("('a',)", ["a"]),
    ("None", None), ("12", 12), ("-3", -3), ("0.5", 0.5), ("True", True),
    ("{'k': 1}", {"k": 1}),
    ("FineTuneOptions(method='lora', max_steps=None, lr=-1e-3)", {"method": "lora", "max_steps": None, "lr": -1e-3}),
    ("[Setting(kind='few-shot', k=2)]", [{"kind": "few-shot", "k": 2}]),
    ("lora", "lora"), ("zero-shot", "zero-shot"), ("auto", "auto"), ("inf", "inf"),
    ("PosixPath('/x')", "PosixPath('/x')"), ("f(**kw)", "f(**kw)"), ("os.system('x')", "os.system('x')"),
    ("[1, 2", "[1, 2"), ("", ""), ("{(1, 2): 3}", "{(1, 2): 3}"), ("{**x}", "{**x}"), ("...", "..."),
])
def test_typed_value_parses_reprs_and_keeps_the_rest(text: str, typed: object) -> None:
    assert migrations.typed_value(text) == typed


def test_typed_config_of_the_real_fine_tune_repr() -> None:
    options = FineTuneOptions(method="full", epochs=0.5, max_examples=None)
    text = json.dumps({"finetune": str(options)})
    assert json.loads(migrations.typed_config_text(text)) == {"finetune": dataclasses.asdict(options)}
    assert migrations.typed_config_text("not json") == "not json"
    assert migrations.typed_config_text(None) is None


def test_migrations_must_be_declared_in_order() -> None:
    def m005_skips(conn: sqlite3.Connection) -> None: ...

    with pytest.raises(RuntimeError, match="out of order"):
        migrations.migration(m005_skips)
