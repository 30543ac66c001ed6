"""The stack users run today: Flask + scikit-learn, served by gunicorn.

Serves the SAME artifact JSON as the predictor: the artifact's scaler and coefficients are set on a
scikit-learn Pipeline(StandardScaler, LinearRegression), so both stacks predict the same numbers.
Run: BENCH_ARTIFACT=model.json gunicorn -w 2 -k sync -b 127.0.0.1:PORT flask_app:app
"""

import math
import os
import uuid

import numpy as np
from artifact_pipeline import load_pipeline
from flask import Flask, jsonify, request

SHA256, ARTIFACT, PIPELINE = load_pipeline(os.environ["BENCH_ARTIFACT"])
FEATURES = ARTIFACT["features"]
LOWER = ARTIFACT["interval"]["lower"]
UPPER = ARTIFACT["interval"]["upper"]

app = Flask(__name__)


def bad_request(message):
    return jsonify({"error": message}), 400


@app.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@app.post("/v1/predict")
def predict():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "features" not in body:
        return bad_request("body must be a JSON object with field 'features'")
    features = body["features"]
    if isinstance(features, dict):
        missing = [name for name in FEATURES if name not in features]
        if missing:
            return bad_request(f"features: missing {missing}")
        row = [features[name] for name in FEATURES]
    elif isinstance(features, list) and len(features) == len(FEATURES):
        row = features
    else:
        return bad_request(f"features: expected {len(FEATURES)} values")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in row):
        return bad_request("features: every value must be a finite number")
    y = float(PIPELINE.predict(np.array([row], dtype=np.float64))[0])
    return jsonify(
        {
            "prediction": y,
            "interval": {"lower": y + LOWER, "upper": y + UPPER},
            "modelVersion": SHA256[:12],
            "predictionId": str(uuid.uuid4()),
        }
    )
