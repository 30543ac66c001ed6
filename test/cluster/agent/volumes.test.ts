import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { testNode, testPod } from "./fixtures.ts";
import { planVolumes, referencedObjects, tokenKey, tokenSources } from "./volumes.ts";

const facts = { podIP: "10.244.1.7", hostIP: "10.244.0.1" };
const caCm = { metadata: { name: "kube-root-ca.crt" }, data: { "ca.crt": "-----BEGIN CERTIFICATE-----" } };
const sources = {
  configMaps: new Map([["kube-root-ca.crt", caCm]]),
  secrets: new Map([["creds", { data: { user: Buffer.from("alice").toString("base64") } }]]),
};

/** The volume the ServiceAccount admission plugin adds to every pod. */
function kubeApiAccessPod(): V1Pod {
  return testPod(
    {},
    {
      volumes: [
        {
          name: "kube-api-access-x1",
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              {
                downwardAPI: {
                  items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }],
                },
              },
            ],
          },
        },
        { name: "scratch", emptyDir: {} },
        { name: "creds", secret: { secretName: "creds", defaultMode: 0o400 } },
        {
          name: "info",
          downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
        },
      ],
    },
  );
}

describe("volume plans", () => {
  it("writes the service-account token, CA and namespace of the kube-api-access volume", () => {
    const pod = kubeApiAccessPod();
    const [source] = tokenSources(pod);
    expect(source).toEqual({ audience: "", expirationSeconds: 3607 });
    if (!source) return;
    const tokens = new Map([[tokenKey(source), "eyJhbGciOi.token"]]);
    const plans = planVolumes({ pod, sources, tokens, facts, node: testNode });
    const text = (files: { path: string; data: Buffer; mode: number }[]) =>
      files.map((f) => [f.path, f.data.toString(), f.mode.toString(8)]);
    const [access, scratch, creds, info] = plans;
    expect(access?.kind === "files" && text(access.files)).toEqual([
      ["token", "eyJhbGciOi.token", "644"],
      ["ca.crt", "-----BEGIN CERTIFICATE-----", "644"],
      ["namespace", "shop", "644"],
    ]);
    expect(scratch).toEqual({ name: "scratch", kind: "emptyDir" });
    expect(creds?.kind === "files" && text(creds.files)).toEqual([["user", "alice", "400"]]);
    expect(info?.kind === "files" && text(info.files)).toEqual([
      ["labels", 'app="web"\ntier="front"', "644"],
    ]);
  });

  it("waits for a token that has not been fetched yet", () => {
    expect(() =>
      planVolumes({ pod: kubeApiAccessPod(), sources, tokens: new Map(), facts, node: testNode }),
    ).toThrow("service account token for spec.volumes[0].projected.sources[0] is not available yet");
  });

  it("lists every ConfigMap and Secret a pod reads", () => {
    const pod = kubeApiAccessPod();
    const c = pod.spec?.containers[0];
    if (c) c.env = [{ name: "P", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }];
    expect(referencedObjects(pod)).toEqual({ configMaps: ["kube-root-ca.crt"], secrets: ["creds", "db"] });
  });

  it("fails on a missing key unless optional and names unsupported volume types", () => {
    const pod = testPod(
      {},
      { volumes: [{ name: "c", configMap: { name: "kube-root-ca.crt", items: [{ key: "x", path: "x" }] } }] },
    );
    expect(() => planVolumes({ pod, sources, tokens: new Map(), facts, node: testNode })).toThrow(
      'configured key "x" not found in ConfigMap kube-root-ca.crt',
    );
    const projectedSecret = testPod(
      {},
      {
        volumes: [
          {
            name: "p",
            projected: {
              sources: [
                { secret: { name: "creds", items: [{ key: "user", path: "u" }] } },
                { secret: { name: "creds", items: [{ key: "password", path: "p" }] } },
              ],
            },
          },
        ],
      },
    );
    expect(() =>
      planVolumes({ pod: projectedSecret, sources, tokens: new Map(), facts, node: testNode }),
    ).toThrow('configured key "password" not found in Secret creds');
    const optional = projectedSecret.spec?.volumes?.[0]?.projected?.sources?.[1]?.secret;
    if (optional) optional.optional = true;
    const [plan] = planVolumes({ pod: projectedSecret, sources, tokens: new Map(), facts, node: testNode });
    expect(plan?.kind === "files" && plan.files.map((f) => [f.path, f.data.toString()])).toEqual([
      ["u", "alice"],
    ]);
    const hostPath = testPod({}, { volumes: [{ name: "h", hostPath: { path: "/etc" } }] });
    expect(() => planVolumes({ pod: hostPath, sources, tokens: new Map(), facts, node: testNode })).toThrow(
      'spec.volumes[0]: volume type "hostPath" is not supported by the node agent',
    );
    const escaping = testPod(
      {},
      {
        volumes: [
          { name: "c", configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "../x" }] } },
        ],
      },
    );
    expect(() => planVolumes({ pod: escaping, sources, tokens: new Map(), facts, node: testNode })).toThrow(
      'spec.volumes[0].configMap.items[0].path: path "../x" must be relative',
    );
  });
});
