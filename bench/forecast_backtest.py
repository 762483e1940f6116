"""Back-test evalkit's forecasts on the published Pythia training trajectories (no model is run).

For each model's zero-shot series (every task and metric; a series without a trend, at chance, or
with too few points gets no forecast and is counted as such), fit on the checkpoints up to 10% and
30% of training and predict the final checkpoint (step 143000). Reports, over the series that got
a forecast, the mean absolute error of the forecast and of two plain baselines (the last fitted
value carried forward; a straight line in log-step), how often the forecast beats each, and the
coverage of the 95% prediction interval.

    .venv/bin/python bench/forecast_backtest.py [DATA_DIR]   # default ../shared/data/pythia_evals

MAE is in points (x100) over metrics on a 0-1 scale (accuracies, pct_stereotype); the other metrics
(perplexity, CrowS-Pairs likelihood difference) count in the win rates and the coverage only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from evalkit.forecast.backtest import Backtest, backtest
from evalkit.forecast.series import build_series, points_from_checkpoints
from evalkit.interop.lm_eval_aggregate import read_series

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pythia_evals"
MODELS = ("pythia-70m", "pythia-160m", "pythia-410m")
FRACTIONS = (0.10, 0.30)
LEVEL = 0.95
UNIT_SCALE = ("acc", "acc_norm", "pct_stereotype")


def run_model(folder: Path, fraction: float) -> list[Backtest]:
    points = points_from_checkpoints(read_series([folder]))
    series = build_series(points)
    final = int(max(points.step))
    return [backtest(s, int(fraction * final), predict_steps=[final], level=LEVEL) for s in series]


def summary(results: list[Backtest]) -> dict[str, float]:
    done = [r for r in results if r.ok]
    unit = [r for r in done if r.label.rsplit(" / ", 1)[-1] in UNIT_SCALE]
    mae = {k: 100 * float(np.mean([r.mae(k) for r in unit])) if unit else float("nan")
           for k in ("forecast", "last_value", "linear")}
    beats = {k: float(np.mean([r.mae("forecast") < r.mae(k) for r in done])) if done else float("nan")
             for k in ("last_value", "linear")}
    return {"series": len(results), "forecast": len(done), "unit": len(unit), **{f"mae_{k}": v for k, v in mae.items()},
            **{f"beats_{k}": v for k, v in beats.items()},
            "coverage": float(np.mean([r.coverage for r in done])) if done else float("nan")}


def main(data: Path) -> None:
    print(f"| model | fit on | series | forecast | MAE forecast | MAE last value | MAE linear log-step | "
          f"beats last | beats linear | {LEVEL:.0%} coverage |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model in MODELS:
        for fraction in FRACTIONS:
            s = summary(run_model(data / model / "zero-shot", fraction))
            print(f"| {model} | ≤{fraction:.0%} | {s['series']} | {s['forecast']} | {s['mae_forecast']:.2f} | "
                  f"{s['mae_last_value']:.2f} | {s['mae_linear']:.2f} | {s['beats_last_value']:.0%} | "
                  f"{s['beats_linear']:.0%} | {s['coverage']:.0%} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
