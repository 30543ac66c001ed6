import { describe, expect, it } from "vitest";
import {
  allocatePodIP,
  DEFAULT_NETWORK,
  netnsName,
  networkConfig,
  nodePodCidr,
  podMac,
  vethName,
} from "./network.ts";

describe("pod network addressing", () => {
  it("gives node N the /24 10.244.N.0 and its pods the lowest free host from .2", () => {
    expect(nodePodCidr(DEFAULT_NETWORK, 2)).toBe("10.244.2.0/24");
    expect(allocatePodIP("10.244.2.0/24", new Set())).toBe("10.244.2.2");
    expect(allocatePodIP("10.244.2.0/24", new Set(["10.244.2.2", "10.244.2.3"]))).toBe("10.244.2.4");
    const full = new Set(Array.from({ length: 253 }, (_, i) => `10.244.2.${i + 2}`));
    expect(allocatePodIP("10.244.2.0/24", full)).toBeUndefined();
    expect(() => allocatePodIP("10.244.0.0/16", new Set())).toThrow(
      'pod CIDR "10.244.0.0/16": the node agent needs an a.b.c.0/24',
    );
    expect(() => nodePodCidr(DEFAULT_NETWORK, 0)).toThrow("node index 0: must be an integer from 1 to 254");
  });

  it("gives a pod the MAC its IP had before, so that ARP caches stay right when an address is reused", () => {
    expect(podMac("10.244.1.3")).toBe("0a:58:0a:f4:01:03");
    expect(podMac("10.244.1.3")).toBe(podMac("10.244.1.3"));
    expect(podMac("10.244.2.3")).not.toBe(podMac("10.244.1.3"));
    expect(() => podMac("10.244.1")).toThrow('pod IP "10.244.1": not an IPv4 address');
  });

  it("names interfaces within the kernel's 15-byte limit, stably per pod", () => {
    const uid = "0b1c2d3e-1111-2222-3333-444455556666";
    expect(vethName(uid)).toMatch(/^tmv[0-9a-f]{11}$/);
    expect(vethName(uid)).toBe(vethName(uid));
    expect(vethName(uid)).not.toBe(vethName("other"));
    expect(netnsName(DEFAULT_NETWORK, uid)).toBe(`tm0-pod-${uid}`);
  });

  it("derives the gateway from the cluster CIDR and checks the flags", () => {
    const net = networkConfig({
      bridge: "tmx",
      clusterCidr: "10.250.0.0/16",
      serviceCidr: "10.97.0.0/16",
      dnsServer: "10.97.0.10",
    });
    expect(net).toMatchObject({ bridge: "tmx", gateway: "10.250.0.1", serviceCidr: "10.97.0.0/16" });
    expect(() => networkConfig({ ...net, bridge: "Tm-0" })).toThrow(
      '--bridge: "Tm-0" must be 1-8 lower-case',
    );
    expect(() => networkConfig({ ...net, clusterCidr: "10.250.0.0/24" })).toThrow(
      '--cluster-cidr: "10.250.0.0/24" must be an a.b.0.0/16 network',
    );
  });
});
