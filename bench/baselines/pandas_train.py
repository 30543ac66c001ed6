"""What a Python team runs today to train the same model: pandas.read_csv, the same features with
pandas rolling windows, a time-ordered split, scikit-learn LinearRegression, holdout R^2.

Feature definitions follow predictor/src/features.ts (log returns; sample std, ddof 1).
Usage: python3 pandas_train.py CSV FEATURES(comma-separated) HORIZON HOLDOUT_FRACTION
Prints one JSON object: the fit's raw-feature coefficients and the rows used.
"""

import json
import re
import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score


def feature(bars, name):
    close = bars["close"]
    log_close = np.log(close)
    if m := re.fullmatch(r"ret_(\d+)", name):
        return log_close.diff(int(m[1]))
    if m := re.fullmatch(r"vol_(\d+)", name):
        return log_close.diff().rolling(int(m[1])).std()
    if m := re.fullmatch(r"sma_ratio_(\d+)_(\d+)", name):
        return close.rolling(int(m[1])).mean() / close.rolling(int(m[2])).mean() - 1
    if m := re.fullmatch(r"zscore_(\d+)", name):
        window = close.rolling(int(m[1]))
        sd = window.std()
        return ((close - window.mean()) / sd).where(sd != 0, 0.0)
    if m := re.fullmatch(r"rsi_(\d+)", name):
        n = int(m[1])
        change = close.diff()
        up = change.clip(lower=0).rolling(n).sum()
        down = (-change).clip(lower=0).rolling(n).sum()
        return (100 * up / (up + down)).where(up + down != 0, 50.0)
    raise SystemExit(f"feature {name!r}: not implemented by this baseline")


def main():
    path, names, horizon, holdout = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), float(sys.argv[4])
    bars = pd.read_csv(path)
    table = pd.DataFrame({name: feature(bars, name) for name in names})
    table["target"] = np.log(bars["close"].shift(-horizon) / bars["close"])
    table = table.dropna()
    # The predictor's split: the last `holdout` share of the rows, after a gap of `horizon` rows
    # so that no training target overlaps the holdout.
    available = len(table) - horizon
    train_rows = available - int(available * holdout)
    train = table.iloc[:train_rows]
    test = table.iloc[train_rows + horizon :]
    model = LinearRegression().fit(train[names].to_numpy(), train["target"].to_numpy())
    r2 = r2_score(test["target"], model.predict(test[names].to_numpy()))
    json.dump(
        {
            "rows": len(table),
            "trainRows": len(train),
            "holdoutRows": len(test),
            "r2": r2,
            "intercept": float(model.intercept_),
            "coef": model.coef_.tolist(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
