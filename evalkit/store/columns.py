"""The one description of the store's tables: every module that names a column derives it from here.

The DDL, the writer's named-column INSERTs, the export and listing columns, the baseline loader's
required fields and the JSON payload columns all come from `TABLES`. SQL types are kept portable
(TEXT / INTEGER / REAL) so another database can be built from the same description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

SqlType = Literal["TEXT", "INTEGER", "REAL"]


@dataclass(frozen=True)
class Column:
    """One column: its SQL, whether a baseline must carry it, whether tidy tables show it."""

    name: str
    type: SqlType
    not_null: bool = False
    check: str | None = None
    export: bool = True  # shown in tidy exports and listings
    required: bool | None = None  # a loaded baseline must supply it; default: NOT NULL or primary key
    json_key: str | None = None  # holds JSON text; the plain name used in JSON exports

    def sql(self, types: Mapping[str, str] | None = None) -> str:
        """The column's definition inside CREATE TABLE (`types`: a database's names for the portable types)."""
        text = f"{self.name} {(types or {}).get(self.type, self.type)}" + (" NOT NULL" if self.not_null else "")
        return text + (f" CHECK ({self.check})" if self.check else "")


@dataclass(frozen=True)
class Table:
    """A table: its columns in on-disk order, primary key, table constraints and indexes."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def select_list(self) -> str:
        """'a, b, c': every described column, for SELECT (never `*`, which would show a database's extras)."""
        return ", ".join(self.names)

    @property
    def export_names(self) -> list[str]:
        """The columns shown in tidy exports and listings."""
        return [c.name for c in self.columns if c.export]

    @property
    def required_names(self) -> list[str]:
        """The columns a baseline entry of this table must supply."""
        return [c.name for c in self.columns if _required(c, self.primary_key)]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, types: Mapping[str, str] | None = None, row_id: str | None = None) -> list[str]:
        """CREATE TABLE (and CREATE INDEX) statements, idempotent; `row_id`: the definition of an
        insertion-order column named rowid, for a database that has none built in (SQLite has)."""
        body = ([c.sql(types) for c in self.columns] + ([row_id] if row_id else [])
                + [f"PRIMARY KEY ({', '.join(self.primary_key)})"])
        statements = [f"CREATE TABLE IF NOT EXISTS {self.name} (\n    " + ",\n    ".join(body + list(self.constraints))
                      + "\n)"]
        statements += [f"CREATE INDEX IF NOT EXISTS {index} ON {self.name}({', '.join(columns)})"
                       for index, columns in self.indexes]
        return statements

    def insert_sql(self) -> str:
        """INSERT with named placeholders for every column: a row is a dict keyed by column name."""
        return (f"INSERT INTO {self.name} ({', '.join(self.names)}) "
                f"VALUES ({', '.join(':' + n for n in self.names)})")


def _required(column: Column, primary_key: tuple[str, ...]) -> bool:
    if column.required is not None:
        return column.required
    return column.not_null or column.name in primary_key


def _text(name: str, **kw: object) -> Column:
    return Column(name, "TEXT", **kw)  # type: ignore[arg-type]


_CELL_FK = "FOREIGN KEY (run_id, cell_id) REFERENCES cells(run_id, cell_id) ON DELETE CASCADE"

META = Table("meta", (_text("key"), _text("value", not_null=True)), primary_key=("key",))

RUNS = Table("runs", (
    _text("run_id"), _text("name"), _text("created_at", not_null=True), _text("finished_at"),
    _text("status", not_null=True, check="status IN ('running', 'complete', 'failed')"),
    _text("evalkit_version"), _text("lm_eval_version"), _text("transformers_version"), _text("torch_version"),
    _text("git_commit"), _text("host"), _text("command"), Column("seed", "INTEGER"),
    _text("config_json", export=False, json_key="config"),
), primary_key=("run_id",))

CELLS = Table("cells", (
    _text("run_id", not_null=True, export=False), _text("cell_id", not_null=True), _text("model", not_null=True),
    _text("model_spec_json", not_null=True, export=False, required=False, json_key="model_spec"),
    _text("model_fingerprint", not_null=True), _text("adapter"), _text("task", not_null=True),
    _text("task_config_hash", not_null=True), _text("task_source"), _text("setting", not_null=True),
    Column("num_fewshot", "INTEGER", not_null=True), Column("n", "INTEGER", not_null=True, export=False),
    Column("duration_s", "REAL", export=False), _text("details_json", export=False, json_key="details"),
), primary_key=("run_id", "cell_id"),
    constraints=("FOREIGN KEY (run_id) REFERENCES runs(run_id) ON DELETE CASCADE",))

METRICS = Table("metrics", (
    _text("run_id", not_null=True, export=False), _text("cell_id", not_null=True, export=False),
    _text("model", not_null=True, export=False), _text("task", not_null=True, export=False),
    _text("setting", not_null=True, export=False), _text("metric", not_null=True),
    Column("value", "REAL"), Column("stderr", "REAL"), Column("ci_low", "REAL"), Column("ci_high", "REAL"),
    Column("n", "INTEGER", not_null=True), Column("higher_is_better", "INTEGER", not_null=True),
), primary_key=("run_id", "cell_id", "metric"), constraints=(_CELL_FK,),
    indexes=(("metrics_by_task", ("task", "metric")),))

SAMPLES = Table("samples", (
    _text("run_id", not_null=True), _text("cell_id", not_null=True), Column("doc_id", "INTEGER", not_null=True),
    _text("doc_hash", not_null=True), _text("prompt_hash", not_null=True), _text("prompt"), _text("target"),
    _text("prediction"), _text("scores_json", not_null=True, json_key="scores"),
    _text("outputs_json", json_key="outputs"),
    _text("cluster", required=False),  # the document's group (a task's metadata.cluster field); None: none named
), primary_key=("run_id", "cell_id", "doc_id"), constraints=(_CELL_FK,))

TABLES: tuple[Table, ...] = (META, RUNS, CELLS, METRICS, SAMPLES)
RESULT_TABLES: tuple[Table, ...] = (RUNS, CELLS, METRICS, SAMPLES)

# JSON text columns and the plain names their parsed values take in a JSON export.
JSON_COLUMNS: dict[str, str] = {c.name: c.json_key for t in TABLES for c in t.columns if c.json_key}


def ddl_statements() -> list[str]:
    """Every statement that creates the current schema."""
    return [statement for table in TABLES for statement in table.ddl()]
