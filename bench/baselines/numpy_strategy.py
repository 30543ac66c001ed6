"""The strategy backtest and the Newey-West comparison in numpy, vectorized, timed alone after a warm-up.

The same computation as predictor/src/train/backtest.ts and compare.ts on the file
bench/strategy-data.ts writes: close (n + 1), ts (n + 1), predictions (n), targets (n), a (m), b (m),
float64 little-endian.
Usage: python3 numpy_strategy.py DATA N M REPEATS BAND POSITION_LIMIT COST_BPS  ->  one JSON object on stdout.
"""

import json
import math
import sys
import time

import numpy as np

YEAR_MS = 365.25 * 24 * 3600 * 1000
MAX_RHO = 0.97


def backtest(close, ts, predictions, targets, band, limit, cost_bps):
    n = predictions.size
    position = np.where(np.abs(predictions) <= band, 0.0, np.sign(predictions) * limit)
    gross = position * (close[1:] / close[:-1] - 1)
    traded = np.abs(np.diff(position, prepend=0.0))
    r = gross - cost_bps / 10000 * traded
    equity = np.cumprod(1 + r)
    peak = np.maximum(np.maximum.accumulate(equity), 1.0)
    per_year = n * YEAR_MS / (ts[n] - ts[0])
    mean = r.mean()
    sd = math.sqrt(max(0.0, float(np.dot(r, r)) / n - mean * mean))
    downside = math.sqrt(float(np.dot(np.minimum(r, 0), np.minimum(r, 0))) / n)
    in_market = position != 0
    return {
        "bars": n,
        "barsPerYear": per_year,
        "sharpe": mean / sd * math.sqrt(per_year),
        "sortino": mean / downside * math.sqrt(per_year),
        "maxDrawdown": float(np.max(1 - equity / peak)),
        "hitRate": float(np.count_nonzero(in_market & (gross > 0)) / np.count_nonzero(in_market)),
        "exposure": float(np.count_nonzero(in_market) / n),
        "turnover": float(traded.mean()),
        "cumulativeReturn": float(equity[-1] - 1),
        "predictionCorrelation": float(np.corrcoef(predictions, targets)[0, 1]),
    }


def autocovariance(centered, lag):
    return float(np.dot(centered[lag:], centered[: centered.size - lag])) / centered.size


def bandwidth(rho, n):
    r = min(MAX_RHO, max(-MAX_RHO, rho))
    alpha = 4 * r * r / ((1 - r) ** 2 * (1 + r) ** 2)
    return max(1.0, 1.1447 * (alpha * n) ** (1 / 3))


def compare(a, b):
    d = a - b
    n = d.size
    mean = d.mean()
    dc = d - mean
    variance = autocovariance(dc, 0)
    rho = min(MAX_RHO, max(-MAX_RHO, autocovariance(dc, 1) / variance))
    e = dc[1:] - rho * dc[:-1]
    ec = e - e.mean()
    e_variance = autocovariance(ec, 0)
    width = bandwidth(autocovariance(ec, 1) / e_variance, n - 1)
    long_run = e_variance
    lag = 1
    while lag < width and lag < n - 1:
        long_run += 2 * (1 - lag / width) * autocovariance(ec, lag)
        lag += 1
    long_run = max(long_run / (1 - rho) ** 2, variance / n)
    se = math.sqrt(long_run / n)
    return {
        "meanDifference": mean,
        "standardError": se,
        "pValue": math.erfc(abs(mean / se) / math.sqrt(2)),
        "effectiveSamples": n * variance / long_run,
        "samples": n,
        "bandwidth": width,
    }


def timed(run, repeats):
    result = run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def main():
    path, n, m, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    band, limit, cost_bps = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    data = np.fromfile(path, dtype="<f8")
    sizes = [n + 1, n + 1, n, n, m, m]
    if data.size != sum(sizes):
        raise SystemExit(f"{path}: {data.size} values, want {sum(sizes)}")
    close, ts, predictions, targets, a, b = np.split(data, np.cumsum(sizes)[:-1])
    backtest_seconds, metrics = timed(lambda: backtest(close, ts, predictions, targets, band, limit, cost_bps), repeats)
    compare_seconds, comparison = timed(lambda: compare(a, b), repeats)
    json.dump(
        {"backtestSeconds": backtest_seconds, "compareSeconds": compare_seconds, "metrics": metrics, "comparison": comparison},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
