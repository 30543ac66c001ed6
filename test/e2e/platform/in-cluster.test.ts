// What a pod sees of the cluster: Services by their DNS names through their ClusterIPs, and the
// apiserver at kubernetes.default.svc, where its ServiceAccount may
// do exactly what its Role grants. The checks run inside a pod of the predictor image (which has
// node) as a Job, and print one JSON line the test reads from the pod's log.
import type { V1Job, V1Pod, V1Service } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { apply, getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { containerLog } from "../support/pods.ts";
import { deployPredictor, PREDICTOR_IMAGE } from "../support/predictor.ts";
import { waitFor } from "../support/wait.ts";

const ns = useNamespace("e2e-pod");

// Runs in the pod. Every network step has a timeout; each result is recorded, none throws.
const PROBE = `
const dns = require("node:dns").promises;
const fs = require("node:fs");
const https = require("node:https");
const http = require("node:http");
const [namespace] = process.argv.slice(1);
const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
function call(mod, url, options) {
  return new Promise((resolve) => {
    const req = mod.request(url, { timeout: 5000, ...options }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(e.code || e.message));
    req.end(options && options.body);
  });
}
async function lookup(name) {
  try { return (await dns.lookup(name)).address; } catch (e) { return e.code; }
}
(async () => {
  const token = fs.readFileSync(sa + "/token", "utf8");
  const ca = fs.readFileSync(sa + "/ca.crt");
  const api = (method, path, body) => call(https, "https://kubernetes.default.svc" + path, {
    method, ca, headers: { authorization: "Bearer " + token, "content-type": "application/json" }, body,
  });
  const out = {
    kubernetes: await lookup("kubernetes.default.svc"),
    predictor: await lookup("predictor." + namespace + ".svc"),
    predictorShort: await lookup("predictor"),
    predictorModel: await call(http, "http://predictor." + namespace + ".svc/v1/model"),
    listConfigMaps: await api("GET", "/api/v1/namespaces/" + namespace + "/configmaps"),
    getConfigMap: await api("GET", "/api/v1/namespaces/" + namespace + "/configmaps/allowed"),
    createConfigMap: await api("POST", "/api/v1/namespaces/" + namespace + "/configmaps",
      JSON.stringify({ metadata: { name: "made-by-pod" } })),
    listSecrets: await api("GET", "/api/v1/namespaces/" + namespace + "/secrets"),
    listKubeSystemConfigMaps: await api("GET", "/api/v1/namespaces/kube-system/configmaps"),
  };
  console.log("PROBE " + JSON.stringify(out));
})();
`;

let results: Record<string, string | number>;
let predictorIP = "";

beforeAll(async () => {
  await deployPredictor({ namespace: ns.name, name: "predictor", replicas: 1 });
  predictorIP = (await getJson<V1Service>(["service", "predictor", "-n", ns.name])).spec?.clusterIP ?? "";
  await apply(
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { namespace: ns.name, name: "allowed" },
      data: { a: "1" },
    },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: ns.name, name: "reader" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { namespace: ns.name, name: "configmap-reader" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { namespace: ns.name, name: "reader" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns.name }],
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { namespace: ns.name, name: "probe" },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: "Never",
            serviceAccountName: "reader",
            containers: [{ name: "probe", image: PREDICTOR_IMAGE, command: ["node", "-e", PROBE, ns.name] }],
          },
        },
      },
    },
  );
  await waitFor(
    "Job probe to complete",
    async () =>
      (await getJson<V1Job>(["job", "probe", "-n", ns.name])).status?.conditions?.some(
        (c) => c.type === "Complete" && c.status === "True",
      ),
    { timeoutMs: 120_000 },
  );
  const [pod] = (await getJson<{ items: V1Pod[] }>(["pods", "-n", ns.name, "-l", "job-name=probe"])).items;
  const log = await containerLog(ns.name, pod?.metadata?.name as string, "probe");
  const line = log.split("\n").find((l) => l.includes("PROBE {"));
  if (!line) throw new Error(`the probe printed no result; its log:\n${log}`);
  results = JSON.parse(line.slice(line.indexOf("PROBE ") + 6));
});

describe("from inside a pod", () => {
  it("resolves Services by name to their ClusterIPs, with the namespace's search path", () => {
    // The first address of the service range, whatever the cluster's range is.
    expect(results.kubernetes).toMatch(/^\d+\.\d+\.\d+\.1$/);
    expect(results.predictor).toBe(predictorIP);
    expect(results.predictorShort).toBe(predictorIP);
  });

  it("reaches a Service's pods through its ClusterIP", () => {
    expect(results.predictorModel).toBe(200);
  });

  it("allows its ServiceAccount exactly what the Role grants", () => {
    expect(results.listConfigMaps).toBe(200);
    expect(results.getConfigMap).toBe(200);
    expect(results.createConfigMap).toBe(403);
    expect(results.listSecrets).toBe(403);
    expect(results.listKubeSystemConfigMaps).toBe(403);
  });
});
