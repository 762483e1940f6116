"""`evalkit results export RUN`: write a run to JSON (full fidelity), Parquet or CSV. Any of these
files can be passed back as a baseline (`evalkit gate --baseline FILE`), so CI needs no database."""

from __future__ import annotations

import re
from pathlib import Path

import click

from evalkit.compare import RunOpener
from evalkit.store.export import EXPORT_FORMATS, export_run


def default_export_path(label: str, fmt: str) -> Path:
    """reports/<run label>.<fmt>, the label reduced to characters safe in a file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "run"
    return Path("reports") / f"{safe}.{fmt}"


@click.command("export")
@click.argument("run", metavar="RUN")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="json: everything (run, cells, metrics, samples); parquet / csv: tidy metrics plus a "
                   "<stem>.samples.<ext> file. Default: from the -o suffix, else json.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: reports/<run name or id>.<format>).")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Results database (default: $EVALKIT_STORE or reports/evalkit.db).")
def export_command(run: str, fmt: str | None, output: Path | None, store: Path | None) -> None:
    """Export RUN (id, name, latest, latest~N, or another export file) for use as a CI baseline."""
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        fmt = suffix if suffix in EXPORT_FORMATS else "json"
    with RunOpener(store) as opener:
        side = opener.open(run)
        path = output or default_export_path(side.run.get("name") or side.run_id, fmt)
        written = export_run(side.conn, side.run_id, path, fmt)
    for file in written:
        click.echo(f"Wrote {file}")

