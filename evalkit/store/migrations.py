"""Named schema migrations, applied in order inside one transaction (the shape of simonw/llm's).

`mNNN_name(conn)` takes a store at version NNN-1 to version NNN. A new store is created at the
latest version directly from `evalkit.store.columns`; migrations only upgrade older files.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from typing import Any, Callable

from evalkit.store.jsontext import finite, strict_json

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[int, Migration]] = []


def migration(function: Migration) -> Migration:
    """Register `mNNN_...` as the step to version NNN; steps must be declared in order."""
    version = int(function.__name__[1:4])
    expected = (MIGRATIONS[-1][0] if MIGRATIONS else 1) + 1
    if not function.__name__.startswith("m") or version != expected:
        raise RuntimeError(f"Migration {function.__name__} is out of order: expected m{expected:03d}_...")
    MIGRATIONS.append((version, function))
    return function


def pending(version: int) -> list[tuple[int, Migration]]:
    """The steps that take a store at `version` to the latest one."""
    return [(v, step) for v, step in MIGRATIONS if v > version]


@migration
def m002_typed_config(conn: sqlite3.Connection) -> None:
    """runs.config_json held Python reprs ("['a']", "None", "FineTuneOptions(...)"): make it typed
    JSON; JSON payloads written with NaN / Infinity tokens become strict JSON (null)."""
    for run_id, text in conn.execute("SELECT run_id, config_json FROM runs").fetchall():
        typed = typed_config_text(text)
        if typed != text:
            conn.execute("UPDATE runs SET config_json = ? WHERE run_id = ?", (typed, run_id))
    for table, column in (("samples", "scores_json"), ("samples", "outputs_json"), ("cells", "details_json")):
        _strict_payloads(conn, table, column)


def typed_config_text(text: str | None) -> str | None:
    """The v2 form of a v1 config_json text; text that is not a JSON object is kept as it is."""
    if not text:
        return text
    try:
        config = json.loads(text)
    except ValueError:
        return text
    if not isinstance(config, dict):
        return text
    return strict_json(finite({key: typed_value(value) for key, value in config.items()}), field="config_json")


def typed_value(value: Any) -> Any:
    """A repr string parsed into the value it spells (list, None, number, `Name(k=v)` as a dict);
    anything that does not parse is kept as the string it was."""
    if isinstance(value, list):
        return [typed_value(v) for v in value]
    if isinstance(value, dict):
        return {k: typed_value(v) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    try:
        return _literal(ast.parse(value.strip(), mode="eval").body)
    except (SyntaxError, ValueError, RecursionError):
        return value


def _literal(node: ast.AST) -> Any:
    """Like ast.literal_eval, plus calls `Name(key=literal, ...)` read as {key: value}."""
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)) and not node.args:
        if any(k.arg is None for k in node.keywords):
            raise ValueError("**kwargs in a repr")
        return {k.arg: _literal(k.value) for k in node.keywords}
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ValueError("**mapping in a repr")
        return {_key(_literal(k)): _literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Constant) and not isinstance(node.value, (bytes, complex)) and node.value is not ...:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _literal(node.operand)
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    raise ValueError(f"not a literal: {ast.dump(node)[:60]}")


def _key(value: Any) -> Any:
    """A dict key JSON can hold."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"a {type(value).__name__} key")


def _strict_payloads(conn: sqlite3.Connection, table: str, column: str) -> None:
    """Re-encode the JSON texts of `column` that hold NaN / Infinity tokens, with null in their place."""
    rows = conn.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} LIKE '%NaN%' "
                        f"OR {column} LIKE '%Infinity%'").fetchall()
    for rowid, text in rows:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        strict = strict_json(finite(value), field=f"{table}.{column}")
        if strict != text:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (strict, rowid))


@migration
def m003_sample_clusters(conn: sqlite3.Connection) -> None:
    """samples.cluster: the group a document belongs to (a passage, a subject), for cluster-robust
    statistics; rows stored before it have none (NULL). Same statement for SQLite and PostgreSQL."""
    conn.execute("ALTER TABLE samples ADD COLUMN cluster TEXT")
