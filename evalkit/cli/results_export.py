"""`evalkit results export RUN`: write a run to JSON (full fidelity), Parquet or CSV. Any of these
files can be passed back as a baseline (`evalkit gate --baseline FILE`), so CI needs no database.
`--format eee` writes the Every Eval Ever aggregate and instance-level files into a folder."""

from __future__ import annotations

import re
from pathlib import Path

import click

from evalkit.cli.options import RunRef, output_options, store_option
from evalkit.cli.report_output import report_inputs
from evalkit.compare import RunOpener, RunSide
from evalkit.outputs import check_output_path
from evalkit.store import EXPORT_FORMATS, export_run

EEE_FORMAT = "eee"  # not an export suffix: it names a folder, and files in it are not baselines
HF_FORMAT = "hf-eval-results"  # a folder of Hugging Face .eval_results/*.yaml entries, not a baseline


def default_export_path(label: str, fmt: str) -> Path:
    """reports/<run label>.<fmt>, the label reduced to characters safe in a file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "run"
    return Path("reports") / f"{safe}.{fmt}"


def export_format(fmt: str | None, output: Path | None) -> str:
    """The explicit --format, else the one the -o suffix names, else json (no -o, or no suffix). The
    baseline reader goes by the suffix, so a file whose suffix says another format is refused
    (InputError, exit 2): `--format csv -o b.json` or `-o b.txt` would give a baseline that cannot
    be read back."""
    from evalkit.errors import InputError

    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    if fmt in (EEE_FORMAT, HF_FORMAT) or output is None or (fmt is None and not suffix):
        return fmt or "json"
    chosen = fmt or suffix
    readable = suffix == chosen or (chosen == "json" and suffix not in EXPORT_FORMATS)
    if chosen not in EXPORT_FORMATS or (fmt is not None and not readable) or (fmt is None and suffix != chosen):
        raise InputError(f"-o '{output}' does not say which export format it holds"
                         + (f" (--format {fmt}, but its suffix is '.{suffix}')" if fmt else f" ('.{suffix}')")
                         + ": a baseline is read back by its suffix.",
                         hint=f"Name the file .json, .parquet or .csv (e.g. -o {output.with_suffix('.' + (fmt or 'json'))}), "
                              "or pass the matching --format.")
    return chosen


@click.command("export")
@click.argument("run", type=RunRef(), metavar="RUN")
@output_options((*EXPORT_FORMATS, EEE_FORMAT, HF_FORMAT),
                format_help="json: everything (run, cells, metrics, samples); parquet / csv: tidy metrics plus "
                            "a <stem>.samples.<ext> file; eee: the Every Eval Ever schema (0.3.0), an aggregate "
                            "file and an instance-level file per model, under data/ in the -o folder; hf-eval-results: "
                            "Hugging Face .eval_results/<task>.yaml entries for tasks with a hub dataset, in the -o "
                            "folder. Default: from the -o suffix, else json.",
                output_help="Output file, or folder for --format eee (default: reports/<run name or id>.<format>); "
                            "an existing file needs --force.")
@store_option
def export_command(run: str, fmt: str | None, output: Path | None, force: bool, store: Path | None) -> None:
    """Export RUN (id, name, latest, latest~N, or another export file) for use as a CI baseline."""
    inputs = report_inputs(store, [run])
    if output is not None and fmt not in (EEE_FORMAT, HF_FORMAT):
        check_output_path(output, force=force, inputs=inputs)  # first: '-o the store' is named as such
    fmt = export_format(fmt, output)
    with RunOpener(store) as opener:
        side = opener.open(run)
        path = output or default_export_path(side.run.get("name") or side.run_id, fmt)
        if fmt == EEE_FORMAT:
            written = _export_eee(side, path, force=force, inputs=inputs)
        elif fmt == HF_FORMAT:
            written = _export_hf(side, path, force=force, inputs=inputs)
        else:
            written = export_run(side.conn, side.run_id, path, fmt, force=force, inputs=inputs)
    for file in written:
        click.echo(f"Wrote {file}", err=True)  # stdout stays for data, as for compare / report -o


def _export_eee(side: RunSide, directory: Path, *, force: bool, inputs: list[Path]) -> list[Path]:
    """The Every Eval Ever files of the run, in `directory` (a folder, created when missing)."""
    from evalkit.errors import InputError
    from evalkit.interop.eee import export_eee

    if directory.exists() and not directory.is_dir():
        raise InputError(f"--format eee writes a folder of files, but -o '{directory}' is a file.",
                         hint="Give a folder, e.g. -o reports/eee.")
    return export_eee(side.conn, side.run_id, directory, force=force, inputs=inputs)


def _export_hf(side: RunSide, directory: Path, *, force: bool, inputs: list[Path]) -> list[Path]:
    """Hugging Face .eval_results/<task>.yaml files of the run's cells that have a hub dataset id."""
    from evalkit.errors import InputError
    from evalkit.interop.hf_eval_results import export_hf_eval_results
    from evalkit.tasks.discovery import TaskRegistry

    if directory.exists() and not directory.is_dir():
        raise InputError(f"--format {HF_FORMAT} writes a folder of files, but -o '{directory}' is a file.",
                         hint="Give a folder, e.g. -o reports/eval_results.")
    index = TaskRegistry.discover().index
    tasks = {str(row[0]) for row in side.conn.execute("SELECT task FROM cells WHERE run_id = ?", (side.run_id,))}
    configs = {t: index[t].config for t in tasks if t in index}
    written, skipped = export_hf_eval_results(side.conn, side.run_id, directory, configs, force=force, inputs=inputs)
    for task in dict.fromkeys(skipped):
        click.echo(f"Left out {task}: no hub dataset id (its YAML's dataset_path is not one, and it is not a "
                   "built-in task with a known hub dataset).", err=True)
    if not written:
        raise InputError(f"None of the run's tasks has a hub dataset id; nothing was written to '{directory}'.",
                         hint="Give the task YAML a hub dataset_path (org/name), or export another format.")
    return written
