import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { e2eContext } from "../support/context.ts";
import { getJson, kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { exampleIn, installCrds, repoRoot } from "./support.ts";

const dir = mkdtempSync(join(tmpdir(), "tmo-publish-"));

function node(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, KUBECONFIG: e2eContext().kubeconfig, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A real artifact from `predictor train`. */
async function train(seed: number): Promise<string> {
  const out = join(dir, `artifact-${seed}.json`);
  const spec = {
    features: ["ret_1", "ret_5", "vol_20"],
    target: { horizon: 1 },
    algorithm: { type: "ridge", alpha: 1 },
    training: { data: { synthetic: { seed, bars: 3000 } } },
  };
  const { code, stderr } = await node(
    [resolve(repoRoot, "predictor/src/cli.ts"), "train", "--out", out, "--spec", JSON.stringify(spec)],
    // Not the host's /dev/termination-log, which is the node agent's mount point.
    { TERMINATION_LOG: join(dir, `train-${seed}.termination-log`) },
  );
  if (code !== 0) throw new Error(stderr);
  return out;
}

describe("operator publish-artifact (the training Job's second container) against the apiserver", () => {
  const ns = useNamespace("e2e-publish");
  let uid = "";

  beforeAll(async () => {
    await installCrds();
    const model = exampleIn(readFileSync(resolve(repoRoot, "examples/spy-momentum.yaml"), "utf8"), ns.name);
    await kubectl(["apply", "-f", "-"], { input: model });
    uid = (
      await kubectl(["-n", ns.name, "get", "tm", "spy-momentum", "-o", "jsonpath={.metadata.uid}"])
    ).trim();
  });

  const publish = (file: string, terminationLog: string) =>
    node(
      [
        resolve(repoRoot, "operator/src/main.ts"),
        "publish-artifact",
        ...["--file", file, "--configmap", "spy-momentum-artifact-v1", "--model", "spy-momentum"],
        ...["--model-uid", uid, "--version", "1"],
      ],
      { POD_NAMESPACE: ns.name, TERMINATION_LOG: terminationLog },
    );

  it("stores the artifact as an immutable ConfigMap owned by the model, accepts the same bytes again, refuses others", async () => {
    const first = await train(1);
    const stored = await publish(first, join(dir, "t1"));
    expect(stored.code).toBe(0);
    expect(JSON.parse(stored.stdout)).toMatchObject({
      status: "ok",
      configMap: "spy-momentum-artifact-v1",
      stored: "created",
    });
    const configMap = await getJson<V1ConfigMap>(["-n", ns.name, "configmap", "spy-momentum-artifact-v1"]);
    expect(configMap.immutable).toBe(true);
    expect(configMap.data?.["artifact.json"]).toBe(readFileSync(first, "utf8"));
    expect(configMap.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "TradingModel",
      uid,
      controller: true,
    });

    const again = await publish(first, join(dir, "t2"));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ stored: "unchanged" });

    const other = await publish(await train(2), join(dir, "t3"));
    expect(other.code).toBe(1);
    expect(readFileSync(join(dir, "t3"), "utf8")).toMatch(
      /ConfigMap spy-momentum-artifact-v1 already holds artifact [0-9a-f]{64}, not [0-9a-f]{64}/,
    );
  });

  it("exits 2 with the reason in the termination log for a damaged artifact", async () => {
    const damaged = join(dir, "damaged.json");
    writeFileSync(damaged, readFileSync(await train(3), "utf8").replace('"ret_5"', '"ret_6"'));
    const result = await publish(damaged, join(dir, "t4"));
    expect(result.code).toBe(2);
    expect(readFileSync(join(dir, "t4"), "utf8")).toMatch(/sha256/);
  });
});
