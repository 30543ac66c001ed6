"""Drives a predictor's Open Inference Protocol routes with Triton's HTTP client (tritonclient).

An independent client, written by another project from the protocol: what it sends and how it reads
the answers is what an OIP user's code does. Prints one JSON object of what it saw; the test
(predictor/src/serve/oip-client.test.ts) checks it against the predictor's own /v1 answers.
Usage: python oip_client.py HOST:PORT MODEL VERSION ROWS_JSON
"""

import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def failure(call):
    """The status and message of a call the server refuses."""
    try:
        call()
    except InferenceServerException as err:
        return {"status": err.status(), "message": err.message()}
    return None


def main():
    url, model, version, rows = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    x = np.array(rows, dtype=np.float64)
    client = httpclient.InferenceServerClient(url=url, network_timeout=10.0, connection_timeout=10.0)
    try:
        metadata = client.get_model_metadata(model)
        features = [tensor["name"] for tensor in metadata["inputs"]]
        outputs = [httpclient.InferRequestedOutput(name, binary_data=False) for name in ("prediction", "lower", "upper")]

        matrix = httpclient.InferInput("input-0", list(x.shape), "FP64")
        matrix.set_data_from_numpy(x, binary_data=False)
        by_matrix = client.infer(model, [matrix], model_version=version, request_id="7", outputs=outputs)

        columns = []
        for j, name in enumerate(features):
            column = httpclient.InferInput(name, [x.shape[0], 1], "FP32")
            column.set_data_from_numpy(x[:, j : j + 1].astype(np.float32), binary_data=False)
            columns.append(column)
        by_feature = client.infer(model, columns, outputs=outputs[:1])

        print(
            json.dumps(
                {
                    "live": client.is_server_live(),
                    "ready": client.is_server_ready(),
                    "modelReady": client.is_model_ready(model),
                    "versionReady": client.is_model_ready(model, version),
                    "otherModelReady": client.is_model_ready("no-such-model"),
                    "metadata": metadata,
                    "matrix": {
                        "id": by_matrix.get_response().get("id"),
                        "prediction": by_matrix.as_numpy("prediction").tolist(),
                        "lower": by_matrix.as_numpy("lower").tolist(),
                        "upper": by_matrix.as_numpy("upper").tolist(),
                        "parameters": by_matrix.get_response().get("parameters"),
                    },
                    "byFeatureFp32": by_feature.as_numpy("prediction").tolist(),
                    "wrongModel": failure(lambda: client.infer("no-such-model", [matrix], outputs=outputs)),
                    # The client's default without outputs asks for binary outputs, which are refused.
                    "binaryOutputs": failure(lambda: client.infer(model, [matrix])),
                }
            )
        )
    finally:
        client.close()


if __name__ == "__main__":
    main()
