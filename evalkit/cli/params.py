"""Parameter types and options shared by several commands."""

from __future__ import annotations

from typing import Any

import click


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


store_option = click.option(
    "--store", type=click.Path(dir_okay=False), default=None, envvar="EVALKIT_STORE",
    help="Results database (SQLite). Default: reports/evalkit.db, or $EVALKIT_STORE.")
