"""scikit-learn LinearRegression on the in-memory benchmark data, timing fit() only.

The data file is float64 little-endian, column-major: `features` columns of `rows` values, then the
target column; bench/training.ts writes it and fits the same numbers with the project's trainer.
Usage: python3 sklearn_fit.py DATA ROWS FEATURES REPEATS  ->  one JSON object on stdout.
"""

import json
import sys
import time

import numpy as np
from sklearn.linear_model import LinearRegression


def main():
    path, rows, features, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = np.fromfile(path, dtype="<f8")
    if data.size != rows * (features + 1):
        raise SystemExit(f"{path}: {data.size} values, want {rows} rows x {features + 1} columns")
    columns = data.reshape(features + 1, rows)
    x = columns[:features].T
    y = columns[features]
    model = LinearRegression()
    model.fit(x, y)  # warm-up: first-call costs (imports, BLAS threads) are not the fit
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = LinearRegression().fit(x, y)
        seconds.append(time.perf_counter() - start)
    json.dump({"fitSeconds": seconds, "intercept": float(model.intercept_), "coef": model.coef_.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
