"""The predictor's artifact as the scikit-learn Pipeline(StandardScaler, LinearRegression) it describes.

The artifact's scaler and coefficients are set on the pipeline's steps, so that the Python baselines
(flask_app.py, mlserver_model.py) predict the same numbers as the predictor from the same file.
"""

import json

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def load_pipeline(path):
    with open(path, encoding="utf-8") as f:
        artifact_file = json.load(f)
    artifact = artifact_file["artifact"]
    n = len(artifact["features"])
    scaler = StandardScaler()
    scaler.mean_ = np.array(artifact["scaler"]["mean"], dtype=np.float64)
    scaler.scale_ = np.array(artifact["scaler"]["std"], dtype=np.float64)
    scaler.var_ = scaler.scale_**2
    scaler.n_features_in_ = n
    scaler.n_samples_seen_ = artifact["split"]["trainRows"]
    model = LinearRegression()
    model.coef_ = np.array(artifact["coefficients"]["weights"], dtype=np.float64)
    model.intercept_ = float(artifact["coefficients"]["intercept"])
    model.n_features_in_ = n
    return artifact_file["sha256"], artifact, Pipeline([("scale", scaler), ("ols", model)])
