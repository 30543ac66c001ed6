import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { findServicePort, NotFound, RoundRobin, readyBackends, slicesOf } from "./backends.ts";

const service: V1Service = {
  metadata: { namespace: "trading", name: "demo" },
  spec: {
    ports: [
      { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
      { name: "metrics", port: 9090, protocol: "TCP" },
    ],
  },
};

function slice(name: string, endpoints: V1EndpointSlice["endpoints"], extra: Partial<V1EndpointSlice> = {}) {
  return {
    metadata: { namespace: "trading", name, labels: { "kubernetes.io/service-name": "demo" } },
    addressType: "IPv4",
    ports: [
      { name: "http", port: 8080, protocol: "TCP" },
      { name: "metrics", port: 9100, protocol: "TCP" },
    ],
    endpoints,
    ...extra,
  } satisfies V1EndpointSlice;
}

const http = findServicePort(service, 80);

describe("findServicePort", () => {
  it("finds a port by number or by name", () => {
    expect(findServicePort(service, 80).name).toBe("http");
    expect(findServicePort(service, "metrics").port).toBe(9090);
  });

  it("names the ports there are when the asked one does not exist", () => {
    expect(() => findServicePort(service, 81)).toThrow(NotFound);
    expect(() => findServicePort(service, "grpc")).toThrow(
      'service trading/demo has no port "grpc" (ports: http/80, metrics/9090)',
    );
  });
});

describe("readyBackends", () => {
  it("takes the target port of the slice port with the service port's name", () => {
    const backends = readyBackends(http, [
      slice("a", [{ addresses: ["10.244.1.2"], conditions: { ready: true } }]),
    ]);
    expect(backends).toEqual([{ ip: "10.244.1.2", port: 8080 }]);
    const metrics = readyBackends(findServicePort(service, "metrics"), [
      slice("a", [{ addresses: ["10.244.1.2"] }]),
    ]);
    expect(metrics).toEqual([{ ip: "10.244.1.2", port: 9100 }]);
  });

  it("leaves out endpoints that are not ready (a terminating pod) and keeps those with no condition", () => {
    const backends = readyBackends(http, [
      slice("a", [
        { addresses: ["10.244.1.3"], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ["10.244.1.4"] },
      ]),
    ]);
    expect(backends).toEqual([{ ip: "10.244.1.4", port: 8080 }]);
  });

  it("merges slices, drops duplicates and non-IPv4 slices, and orders by address", () => {
    const backends = readyBackends(http, [
      slice("a", [{ addresses: ["10.244.2.10"] }, { addresses: ["10.244.1.9"] }]),
      slice("b", [{ addresses: ["10.244.1.9"] }, { addresses: ["10.244.1.10"] }]),
      slice("c", [{ addresses: ["fd00::5"] }], { addressType: "IPv6" }),
    ]);
    expect(backends.map((b) => b.ip)).toEqual(["10.244.1.9", "10.244.1.10", "10.244.2.10"]);
  });

  it("has no backends when no slice carries the port", () => {
    const noPorts = slice("a", [{ addresses: ["10.244.1.2"] }], { ports: [{ name: "other", port: 1 }] });
    expect(readyBackends(http, [noPorts])).toEqual([]);
  });
});

describe("slicesOf", () => {
  it("selects the slices labelled with the service's name in its namespace", () => {
    const mine = slice("a", []);
    const otherNamespace = { ...slice("b", []), metadata: { ...mine.metadata, namespace: "other" } };
    const otherService = {
      ...slice("c", []),
      metadata: { namespace: "trading", name: "c", labels: { "kubernetes.io/service-name": "x" } },
    };
    expect(slicesOf(service, [mine, otherNamespace, otherService])).toEqual([mine]);
  });
});

describe("RoundRobin", () => {
  it("cycles through the backends and follows changes of the list", () => {
    const rr = new RoundRobin();
    const two = [
      { ip: "10.0.0.1", port: 1 },
      { ip: "10.0.0.2", port: 1 },
    ];
    expect([rr.pick(two), rr.pick(two), rr.pick(two)].map((b) => b?.ip)).toEqual([
      "10.0.0.1",
      "10.0.0.2",
      "10.0.0.1",
    ]);
    expect(rr.pick([])).toBeUndefined();
    expect(rr.pick([{ ip: "10.0.0.3", port: 1 }])?.ip).toBe("10.0.0.3");
  });
});
