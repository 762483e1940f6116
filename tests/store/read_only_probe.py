"""Run by test_read_only.py as an unprivileged user (root ignores file modes): try to read and to
write the store named on the command line and print what happened as JSON. Standard library only
(the interpreter may be a bare system Python), so only evalkit's store modules are imported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from evalkit.errors import StoreError
from evalkit.store import schema
from evalkit.store.writer import finish_run


def probe(path: Path) -> dict[str, object]:
    """{'read': run count or error, 'write': error message, 'sqlite_write': error of a raw write}."""
    out: dict[str, object] = {}
    try:
        conn = schema.open_for_reading(path)
        out["read"] = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        conn.close()
    except StoreError as exc:
        out["read"] = exc.message
    try:
        schema.open_for_writing(path).close()
        out["write"] = "opened"
    except StoreError as exc:
        out["write"] = exc.message
    conn = schema._open(path)  # past the up-front check: SQLite itself must refuse, and be mapped
    try:
        finish_run(conn, "r1", "failed")
        out["sqlite_write"] = "written"
    except StoreError as exc:
        out["sqlite_write"] = exc.message
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        out["sqlite_write"] = f"unmapped {type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return out


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]))))
