"""`evalkit results export RUN`: write a run to JSON (full fidelity), Parquet or CSV. Any of these
files can be passed back as a baseline (`evalkit gate --baseline FILE`), so CI needs no database."""

from __future__ import annotations

import re
from pathlib import Path

import click

from evalkit.cli.options import RunRef, output_options, store_option
from evalkit.cli.report_output import report_inputs
from evalkit.compare import RunOpener
from evalkit.store.export import EXPORT_FORMATS, export_run


def default_export_path(label: str, fmt: str) -> Path:
    """reports/<run label>.<fmt>, the label reduced to characters safe in a file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "run"
    return Path("reports") / f"{safe}.{fmt}"


def export_format(fmt: str | None, output: Path | None) -> str:
    """The explicit --format, else the one the -o suffix names, else json."""
    if fmt is not None:
        return fmt
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    return suffix if suffix in EXPORT_FORMATS else "json"


@click.command("export")
@click.argument("run", type=RunRef(), metavar="RUN")
@output_options(EXPORT_FORMATS,
                format_help="json: everything (run, cells, metrics, samples); parquet / csv: tidy metrics plus "
                            "a <stem>.samples.<ext> file. Default: from the -o suffix, else json.",
                output_help="Output file (default: reports/<run name or id>.<format>); an existing file "
                            "needs --force.")
@store_option
def export_command(run: str, fmt: str | None, output: Path | None, force: bool, store: Path | None) -> None:
    """Export RUN (id, name, latest, latest~N, or another export file) for use as a CI baseline."""
    fmt = export_format(fmt, output)
    inputs = report_inputs(store, [run])
    with RunOpener(store) as opener:
        side = opener.open(run)
        path = output or default_export_path(side.run.get("name") or side.run_id, fmt)
        written = export_run(side.conn, side.run_id, path, fmt, force=force, inputs=inputs)
    for file in written:
        click.echo(f"Wrote {file}", err=True)  # stdout stays for data, as for compare / report -o
