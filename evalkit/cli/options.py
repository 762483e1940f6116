"""Parameter types and options shared by several commands: one definition of each.

Imported by every command module, so it stays light (click only): `evalkit --help` and
`evalkit run --help` must not pay for pandas or the report renderers.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Sequence

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class BatchSize(click.ParamType):
    """A positive integer or 'auto'."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if isinstance(value, int) or str(value).lower() == "auto":
            return value if isinstance(value, int) else "auto"
        try:
            number = int(value)
        except ValueError:
            self.fail(f"'{value}' is neither a positive integer nor 'auto'.", param, ctx)
        if number < 1:
            self.fail(f"'{value}' must be at least 1.", param, ctx)
        return number


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses NaN and ±inf (FloatRange lets NaN through: every
    comparison with NaN is false, so no bound is ever violated)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class RunRef(click.ParamType):
    """A run reference: a run id (or unique prefix), a name, `latest`, `latest~N`, or an exported
    results file. A reference written as a path (a separator or an export suffix) that names a
    directory is refused here, naming it; everything else is resolved by the command."""

    name = "REF"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from evalkit.compare.sources import FILE_SUFFIXES, is_file_ref  # pandas: only once a command runs

        text = str(value)
        if not text.strip():
            self.fail("an empty run reference; give a run id, a name, `latest`, `latest~N` or a results file.",
                      param, ctx)
        if is_file_ref(text) and Path(text).is_dir():
            self.fail(f"'{text}' is a directory, not a run or an exported results file "
                      f"({', '.join(FILE_SUFFIXES)}).", param, ctx)
        return text


class StorePath(click.Path):
    """The results database: an SQLite file's path, or a postgresql:// (postgres://) URL for a team
    store, returned as an `evalkit.store.location.PostgresURL` (its text masks the password); the rules
    (URL schemes, a trailing separator) are `evalkit.store.location.parse_store`'s."""

    name = "PATH|URL"

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "PATH|URL"  # click.Path would say FILE, hiding that a URL is accepted

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from evalkit.errors import StoreError
        from evalkit.store import PostgresURL, parse_store  # stdlib only: light

        if isinstance(value, PostgresURL):
            return value
        try:
            parsed = parse_store(str(value))
        except StoreError as exc:
            self.fail(f"{exc.message} {exc.hint or ''}".strip(), param, ctx)
        return parsed if isinstance(parsed, PostgresURL) else super().convert(parsed, param, ctx)


store_option: Decorator = click.option(
    "--store", type=StorePath(), default=None, envvar="EVALKIT_STORE",
    help="Results database: an SQLite file, or a postgresql://user:pass@host:port/db team store. "
         "Default: $EVALKIT_STORE, else reports/evalkit.db.")


def output_options(formats: Sequence[str], *, format_help: str, output_help: str) -> Decorator:
    """--format (one of `formats`), -o/--output FILE and --force (replace an existing FILE)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option("--force", is_flag=True,
                         help="Replace an existing -o file (a results database is never written over).")(f)
        f = click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help=output_help)(f)
        return click.option("--format", "fmt", type=click.Choice(formats), default=None, help=format_help)(f)

    return decorate


def stats_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--correction, --alpha, --metric, --allow-incomparable."""
    f = click.option("--allow-incomparable", is_flag=True,
                     help="Compare runs that differ in task config, prompts, few-shot k or versions; "
                          "the report carries a warning.")(f)
    f = click.option("--metric", "metrics", multiple=True, help="Compare only this metric (repeatable).")(f)
    f = click.option("--alpha", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=0.05,
                     show_default=True, help="Significance level after correction.")(f)
    return click.option("--correction", type=click.Choice(["holm", "bh"]), default="holm", show_default=True,
                        help="Multiple-comparison correction across all compared rows "
                             "(Holm: family-wise error; bh: Benjamini-Hochberg false discovery rate).")(f)
