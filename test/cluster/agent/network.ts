// Addressing of the agent's pod network: one Linux bridge holds every pod of every node; node N
// takes 10.244.N.0/24 out of 10.244.0.0/16 and the host sits on the bridge as 10.244.0.1.
import { createHash } from "node:crypto";

export type NetworkConfig = {
  bridge: string;
  /** The bridge's /16; each node's pod CIDR is a /24 inside it. */
  clusterCidr: string;
  /** The host's address on the bridge: pods' gateway to the service CIDR and the nodes' InternalIP. */
  gateway: string;
  serviceCidr: string;
  dnsServer: string;
  clusterDomain: string;
};

export const DEFAULT_NETWORK: NetworkConfig = {
  bridge: "tm0",
  clusterCidr: "10.244.0.0/16",
  gateway: "10.244.0.1",
  serviceCidr: "10.96.0.0/16",
  dnsServer: "10.96.0.10",
  clusterDomain: "cluster.local",
};

const VETH_PREFIX = "tmv";

function clusterOctets(clusterCidr: string): [number, number] {
  const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(clusterCidr);
  if (!m) throw new Error(`--cluster-cidr: "${clusterCidr}" must be an a.b.0.0/16 network`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * The network of one agent from its flags: the gateway is the cluster CIDR's .0.1. Two agents
 * with different bridges and cluster CIDRs can run side by side (and clean up only their own).
 */
export function networkConfig(o: {
  bridge: string;
  clusterCidr: string;
  serviceCidr: string;
  dnsServer: string;
}): NetworkConfig {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(o.bridge)) {
    throw new Error(
      `--bridge: "${o.bridge}" must be 1-8 lower-case letters and digits, starting with a letter`,
    );
  }
  const [a, b] = clusterOctets(o.clusterCidr);
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(o.serviceCidr)) {
    throw new Error(`--service-cidr: "${o.serviceCidr}" is not an IPv4 CIDR`);
  }
  return { ...DEFAULT_NETWORK, ...o, gateway: `${a}.${b}.0.1` };
}

export function nodePodCidr(net: NetworkConfig, nodeIndex: number): string {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 1 || nodeIndex > 254) {
    throw new Error(`node index ${nodeIndex}: must be an integer from 1 to 254`);
  }
  const [a, b] = clusterOctets(net.clusterCidr);
  return `${a}.${b}.${nodeIndex}.0/24`;
}

/**
 * The lowest free address (.2 to .254) of a node's /24 pod CIDR, or undefined when it is full.
 * .1 is left out: in 10.244.0.0/24 it is the host's gateway address.
 */
export function allocatePodIP(podCIDR: string, used: ReadonlySet<string>): string | undefined {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(podCIDR);
  if (!m) throw new Error(`pod CIDR "${podCIDR}": the node agent needs an a.b.c.0/24`);
  for (let host = 2; host <= 254; host++) {
    const ip = `${m[1]}.${host}`;
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

/**
 * The MAC of a pod's eth0, made from its IP (0a:58 then the four octets, as OVN-Kubernetes does):
 * an address freed by one pod goes to the next within seconds (allocatePodIP), and the host's and
 * other pods' ARP caches still hold it for the old pod. With a random MAC every probe of the new
 * pod timed out for 30-50 s, until those entries expired; with this one they stay right.
 */
export function podMac(ip: string): string {
  const octets = ip.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`pod IP "${ip}": not an IPv4 address`);
  }
  return ["0a", "58", ...octets.map((o) => o.toString(16).padStart(2, "0"))].join(":");
}

/** Prefix of the agent's network namespaces: cleanup after a crash finds them by it. */
export function netnsPrefix(net: NetworkConfig): string {
  return `${net.bridge}-pod-`;
}

/** Network namespace of a pod, stable in its UID. */
export function netnsName(net: NetworkConfig, podUID: string): string {
  return `${netnsPrefix(net)}${podUID}`;
}

/** Host end of a pod's veth pair; interface names are limited to 15 bytes. */
export function vethName(podUID: string): string {
  return `${VETH_PREFIX}${createHash("sha256").update(podUID).digest("hex").slice(0, 11)}`;
}
