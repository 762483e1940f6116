"""The settings comparison printed after `evalkit run` when a run has several settings: per
(model, task), each setting's metric with its 95% interval and its paired difference from
its baseline setting (fine-tuned vs zero-shot, fine-tuned+few-shot:K vs few-shot:K)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from evalkit.finetune.comparison import SettingsComparison
from evalkit.report.formatting import fmt_count, fmt_delta, fmt_p, fmt_value, is_missing


def render_setting_table(comparison: SettingsComparison) -> Table:
    """One table: a row per (setting, metric); Δ columns filled where the setting has a baseline."""
    table = Table(title=f"{comparison.task} · {comparison.model}: settings compared "
                        "(95% intervals; Δ paired on the same documents)")
    for header, justify in (("setting", "left"), ("metric", "left"), ("n", "right"), ("value [95% CI]", "right"),
                            ("vs", "left"), ("Δ [95% CI]", "right"), ("p", "right"), ("+/−", "right")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    differences = {(r.setting, r.metric): r for r in comparison.differences.itertuples()}
    for row in comparison.settings.itertuples():
        diff = differences.get((row.setting, row.metric))
        table.add_row(row.setting, row.metric, fmt_count(row.n), _interval(row.value, row.ci_low, row.ci_high),
                      *(_difference(diff) if diff is not None else ("", "", "", "")))
    return table


def render_setting_tables(comparisons: list[SettingsComparison]) -> list[Table]:
    return [render_setting_table(c) for c in comparisons]


def setting_tables_for_run(store: str | Path | None, run_id: str) -> list[Table]:
    """The tables of a stored run (none when every (model, task) has a single setting)."""
    from evalkit.finetune.comparison import comparisons_from_store
    from evalkit.home import default_store_path
    from evalkit.store.schema import connect

    conn = connect(Path(store) if store else default_store_path(), create=False)
    try:
        return render_setting_tables(comparisons_from_store(conn, run_id))
    finally:
        conn.close()


def _interval(value: float, low: float | None, high: float | None) -> str:
    if is_missing(low) or is_missing(high):
        return fmt_value(value)
    return f"{fmt_value(value)} [{fmt_value(low)}, {fmt_value(high)}]"


def _difference(diff: object) -> tuple[str, str, str, str]:
    improved, worsened = getattr(diff, "improved"), getattr(diff, "worsened")
    flips = "" if is_missing(improved) or is_missing(worsened) else f"+{int(improved)}/−{int(worsened)}"
    delta = fmt_delta(getattr(diff, "delta"), getattr(diff, "ci_low"), getattr(diff, "ci_high"))
    style = "green" if _significant(diff) and _gain(diff) > 0 else "red" if _significant(diff) else None
    return (str(getattr(diff, "baseline")), f"[{style}]{delta}[/]" if style else delta,
            fmt_p(getattr(diff, "p_value")), flips)


def _significant(diff: object) -> bool:
    p = getattr(diff, "p_value")
    return not is_missing(p) and float(p) < 0.05


def _gain(diff: object) -> float:
    delta = float(getattr(diff, "delta"))
    return delta if getattr(diff, "higher_is_better") else -delta
