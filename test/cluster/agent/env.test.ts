import type { V1ConfigMap, V1Secret, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseQuantity, resolveResourceFieldRef } from "./downward.ts";
import { buildEnv, expandVars, serviceLinkEnv } from "./env.ts";
import { testNode, testPod } from "./fixtures.ts";

const facts = { podIP: "10.244.1.7", hostIP: "10.244.0.1" };
const cm: V1ConfigMap = { metadata: { name: "settings" }, data: { LEVEL: "debug", "bad key": "x" } };
const secret: V1Secret = {
  metadata: { name: "creds" },
  data: { token: Buffer.from("s3cret").toString("base64") },
};
const sources = { configMaps: new Map([["settings", cm]]), secrets: new Map([["creds", secret]]) };

function envOf(container: Parameters<typeof testPod>[0]) {
  const pod = testPod(container);
  const c = pod.spec?.containers[0];
  if (!c) throw new Error("no container");
  return buildEnv({
    pod,
    container: c,
    field: "spec.containers[0]",
    facts,
    node: testNode,
    sources,
    imageEnv: { PATH: "/bin" },
    serviceEnv: { KUBERNETES_SERVICE_HOST: "10.96.0.1" },
  });
}

describe("container env", () => {
  it("resolves downward API fields, literals with $(VAR) references and key refs", () => {
    const { env } = envOf({
      env: [
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "URL", value: "http://$(IP):8080/$(POD)/$$(POD)/$(MISSING)" },
        { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "settings", key: "LEVEL" } } },
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
      ],
    });
    expect(env).toMatchObject({
      PATH: "/bin",
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      POD: "web-7d9f",
      NS: "shop",
      APP: "web",
      IP: "10.244.1.7",
      NODE: "tm-node-1",
      SA: "web",
      URL: "http://10.244.1.7:8080/web-7d9f/$(POD)/$(MISSING)",
      LEVEL: "debug",
      TOKEN: "s3cret",
    });
  });

  it("takes envFrom with a prefix, lets env override it and reports invalid keys", () => {
    const { env, warnings } = envOf({
      envFrom: [{ configMapRef: { name: "settings" }, prefix: "CFG_" }],
      env: [{ name: "CFG_LEVEL", value: "info" }],
    });
    expect(env.CFG_LEVEL).toBe("info");
    expect(warnings).toEqual([
      'spec.containers[0].envFrom[0]: key "bad key" is not a valid variable name, not set',
    ]);
  });

  it("fails with the kubelet's message when a referenced ConfigMap or key is missing", () => {
    expect(() =>
      envOf({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "a" } } }] }),
    ).toThrow('configmap "nope" not found');
    expect(() =>
      envOf({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "nokey" } } }] }),
    ).toThrow("couldn't find key nokey in Secret shop/creds");
    const { env } = envOf({
      env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "a", optional: true } } }],
    });
    expect(env.X).toBeUndefined();
  });

  it("names the field of an unsupported downward API path", () => {
    expect(() =>
      envOf({ env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.priority" } } }] }),
    ).toThrow(
      'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "spec.priority" is not a supported downward API field',
    );
  });

  it("resolves resourceFieldRef with divisors, defaulting an unset limit to node allocatable", () => {
    const c = { name: "m", resources: { limits: { cpu: "250m", memory: "1Gi" } } };
    expect(resolveResourceFieldRef(c, { resource: "limits.cpu", divisor: "1m" }, testNode, "f")).toBe("250");
    expect(resolveResourceFieldRef(c, { resource: "limits.cpu" }, testNode, "f")).toBe("1");
    expect(resolveResourceFieldRef(c, { resource: "requests.memory", divisor: "1Mi" }, testNode, "f")).toBe(
      "1024",
    );
    expect(resolveResourceFieldRef({ name: "m" }, { resource: "limits.cpu" }, testNode, "f")).toBe("2");
    expect(() => resolveResourceFieldRef(c, { resource: "limits.gpu" }, testNode, "f")).toThrow(
      'f.resource: "limits.gpu" is not a supported resource field',
    );
  });

  it("parses quantities", () => {
    expect(parseQuantity("1.5Gi", "q")).toBe(1.5 * 2 ** 30);
    expect(parseQuantity("2e3", "q")).toBe(2000);
    expect(() => parseQuantity("12 cores", "spec.x")).toThrow(
      'spec.x: "12 cores" is not a resource quantity',
    );
  });

  it("expands $$ as a literal dollar", () => {
    expect(expandVars("$$HOME $(A)", (n) => (n === "A" ? "a" : undefined))).toBe("$HOME a");
  });

  it("builds Service link variables for services with a cluster IP", () => {
    const svc = (name: string, clusterIP: string): V1Service => ({
      metadata: { name },
      spec: { clusterIP, ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    });
    const env = serviceLinkEnv([svc("model-api", "10.96.4.2"), svc("headless", "None")]);
    expect(env).toEqual({
      MODEL_API_SERVICE_HOST: "10.96.4.2",
      MODEL_API_SERVICE_PORT: "80",
      MODEL_API_SERVICE_PORT_HTTP: "80",
      MODEL_API_PORT: "tcp://10.96.4.2:80",
      MODEL_API_PORT_80_TCP: "tcp://10.96.4.2:80",
      MODEL_API_PORT_80_TCP_PROTO: "tcp",
      MODEL_API_PORT_80_TCP_PORT: "80",
      MODEL_API_PORT_80_TCP_ADDR: "10.96.4.2",
    });
  });
});
