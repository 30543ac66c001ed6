"""Writes the MLServer model repository of the benchmark: the predictor's artifact as a scikit-learn
pipeline (artifact_pipeline.py) saved with joblib, served by mlserver-sklearn.

Settings as a new user would write them, with two changes: loopback ports of the benchmark's
choosing, and `"parallel_workers": 0` (with the default inference pool the worker dies at start on
Python 3.11 here: "There is no current event loop in thread 'MainThread'"), which serves from the
main process.
Usage: python mlserver_model.py ARTIFACT DIR MODEL_NAME HTTP_PORT GRPC_PORT METRICS_PORT
Then: mlserver start DIR
"""

import json
import os
import sys

import joblib
from artifact_pipeline import load_pipeline


def main():
    artifact, directory, name = sys.argv[1], sys.argv[2], sys.argv[3]
    http_port, grpc_port, metrics_port = (int(p) for p in sys.argv[4:7])
    os.makedirs(directory, exist_ok=True)
    _, _, pipeline = load_pipeline(artifact)
    joblib.dump(pipeline, os.path.join(directory, "model.joblib"))
    settings = {
        "host": "127.0.0.1",
        "http_port": http_port,
        "grpc_port": grpc_port,
        "metrics_port": metrics_port,
        "parallel_workers": 0,
    }
    model_settings = {
        "name": name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": name},
    }
    for filename, content in (("settings.json", settings), ("model-settings.json", model_settings)):
        with open(os.path.join(directory, filename), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2)


if __name__ == "__main__":
    main()
