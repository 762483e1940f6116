"""The single-run interval for clustered documents: cluster-robust, as statsmodels computes it."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.stats.intervals import clustered_mean_interval, mean_interval


def test_clustered_interval_matches_statsmodels_and_is_wider_than_wilson() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(40), 5)
    p = np.clip(0.6 + rng.normal(0, 0.25, 40)[groups], 0, 1)
    values = (rng.random(groups.size) < p).astype(float)
    fit = sm.OLS(values, np.ones(values.size)).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    interval = clustered_mean_interval(values, groups)
    low, high = fit.conf_int(alpha=0.05)[0]
    assert (interval.low, interval.high) == pytest.approx((low, high), rel=1e-9)
    assert interval.stderr == pytest.approx(float(fit.bse[0]), rel=1e-9)
    plain = mean_interval(values)
    assert interval.high - interval.low > 1.3 * (plain.high - plain.low)
    assert "design effect" in interval.method


def test_one_cluster_is_not_estimable() -> None:
    interval = clustered_mean_interval([1.0, 0.0, 1.0], ["a", "a", "a"])
    assert interval.low == -np.inf and interval.high == np.inf


def test_all_right_in_clusters_is_not_a_point() -> None:
    interval = clustered_mean_interval([1.0] * 20, [i // 4 for i in range(20)])
    assert interval.low < 1.0 and interval.high == 1.0
