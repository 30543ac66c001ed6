// The pod network on the host: the bridge, one network namespace and veth pair per pod, and the
// routes that keep every packet on this machine (no default route in pods, no NAT, no forwarding).
import { writeFile } from "node:fs/promises";
import { run } from "./command.ts";
import { type NetworkConfig, netnsName, netnsPrefix, podMac, vethName } from "./network.ts";

const IP = "/usr/sbin/ip";

async function exists(args: string[]): Promise<boolean> {
  try {
    await run(IP, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the bridge with the host's gateway address. The service CIDR is routed onto the bridge
 * so the host never sends service traffic to its default route; cluster IPs the agent answers for
 * (the apiserver's) are added as local addresses.
 */
export async function ensureBridge(net: NetworkConfig): Promise<void> {
  const prefix = net.clusterCidr.split("/")[1];
  if (!(await exists(["link", "show", net.bridge]))) {
    await run(IP, ["link", "add", net.bridge, "type", "bridge"]);
  }
  await writeFile(`/proc/sys/net/ipv6/conf/${net.bridge}/disable_ipv6`, "1");
  await run(IP, ["addr", "replace", `${net.gateway}/${prefix}`, "dev", net.bridge]);
  await run(IP, ["link", "set", net.bridge, "up"]);
  await run(IP, ["route", "replace", net.serviceCidr, "dev", net.bridge, "src", net.gateway]);
}

export async function addLocalAddress(net: NetworkConfig, ip: string): Promise<void> {
  await run(IP, ["addr", "replace", `${ip}/32`, "dev", net.bridge]);
}

/** Network namespace with lo and eth0 (the veth's pod end) at `ip`; routes only to our own networks. */
export async function createPodNetwork(net: NetworkConfig, podUID: string, ip: string): Promise<void> {
  const ns = netnsName(net, podUID);
  const veth = vethName(podUID);
  const prefix = net.clusterCidr.split("/")[1];
  await deletePodNetwork(net, podUID);
  await run(IP, ["netns", "add", ns]);
  await run(IP, ["netns", "exec", ns, "/usr/sbin/sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
  await run(IP, [
    "link",
    "add",
    veth,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "address",
    podMac(ip),
    "netns",
    ns,
  ]);
  await writeFile(`/proc/sys/net/ipv6/conf/${veth}/disable_ipv6`, "1");
  await run(IP, ["link", "set", veth, "master", net.bridge]);
  await run(IP, ["link", "set", veth, "up"]);
  await run(IP, ["-n", ns, "link", "set", "lo", "up"]);
  await run(IP, ["-n", ns, "addr", "add", `${ip}/${prefix}`, "dev", "eth0"]);
  await run(IP, ["-n", ns, "link", "set", "eth0", "up"]);
  await run(IP, ["-n", ns, "route", "add", net.serviceCidr, "via", net.gateway, "dev", "eth0"]);
}

export async function deletePodNetwork(net: NetworkConfig, podUID: string): Promise<void> {
  const ns = netnsName(net, podUID);
  const veth = vethName(podUID);
  if (await exists(["link", "show", veth])) await run(IP, ["link", "del", veth]);
  if ((await listNetns(net)).includes(ns)) await run(IP, ["netns", "del", ns]);
}

export async function listNetns(net: NetworkConfig): Promise<string[]> {
  const out = await run(IP, ["netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(netnsPrefix(net)));
}

/** Interfaces enslaved to the agent's bridge: the host ends of its pods' veths. */
export async function listVeths(net: NetworkConfig): Promise<string[]> {
  if (!(await exists(["link", "show", net.bridge]))) return [];
  const out = await run(IP, ["-o", "link", "show", "master", net.bridge]);
  return out
    .split("\n")
    .map((l) => (l.split(": ")[1] ?? "").split("@")[0] ?? "")
    .filter(Boolean);
}

/** Removes every pod namespace, veth and the bridge (with its addresses and routes). */
export async function removeAllNetworking(net: NetworkConfig): Promise<{ netns: number; veths: number }> {
  const veths = await listVeths(net);
  for (const v of veths) await run(IP, ["link", "del", v]);
  const namespaces = await listNetns(net);
  for (const ns of namespaces) await run(IP, ["netns", "del", ns]);
  if (await exists(["link", "show", net.bridge])) await run(IP, ["link", "del", net.bridge]);
  return { netns: namespaces.length, veths: veths.length };
}
