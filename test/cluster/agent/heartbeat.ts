// Registers one node and keeps it Ready: Lease renewals every 10 s (what the node lifecycle
// controller watches) and a status post every 20 s.
import { statfsSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { NodeApi } from "./kube.ts";
import { goArch, type NodeFacts, nodeObject, nodeStatus } from "./node.ts";
import { statusCode } from "./retry.ts";

const LEASE_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;
const STATUS_EVERY_MS = 20_000;
const PODCIDR_WAIT_MS = 30_000;

export class NodeHeartbeat {
  private readonly api: NodeApi;
  private readonly facts: NodeFacts;
  private readonly log: Logger;
  private readonly readySince = new Date();
  private uid = "";
  private timers: NodeJS.Timeout[] = [];

  constructor(api: NodeApi, facts: NodeFacts, log: Logger) {
    this.api = api;
    this.facts = facts;
    this.log = log.child({ node: facts.name });
  }

  /**
   * Creates the Node if missing (asking for its pod CIDR), posts its status and renews its Lease
   * once, then keeps doing so. Returns the pod CIDR the Node ended up with.
   */
  async start(): Promise<string> {
    let node = await this.api.readNode();
    if (!node) {
      try {
        node = await this.api.createNode(nodeObject(this.facts));
      } catch (err) {
        if (statusCode(err) !== 409) throw err;
        node = await this.api.readNode();
      }
    }
    this.uid = node?.metadata?.uid ?? "";
    await this.postStatus();
    await this.renew();
    const podCIDR = node?.spec?.podCIDR ?? (await this.awaitPodCIDR());
    this.log.info({ podCIDR }, "node registered and Ready");
    this.timers = [
      setInterval(
        () => void this.renew().catch((err) => this.log.error({ err }, "lease renewal failed")),
        LEASE_RENEW_MS,
      ),
      setInterval(
        () => void this.postStatus().catch((err) => this.log.error({ err }, "node status failed")),
        STATUS_EVERY_MS,
      ),
    ];
    return podCIDR;
  }

  /** When the apiserver kept no pod CIDR of ours, the node IPAM controller assigns one. */
  private async awaitPodCIDR(): Promise<string> {
    for (let waited = 0; waited < PODCIDR_WAIT_MS; waited += 500) {
      const podCIDR = (await this.api.readNode())?.spec?.podCIDR;
      if (podCIDR) return podCIDR;
      await sleep(500);
    }
    throw new Error(
      `node ${this.facts.name}: no spec.podCIDR ${PODCIDR_WAIT_MS / 1000} s after registration`,
    );
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  private async renew(): Promise<void> {
    await this.api.renewLease(this.uid, LEASE_SECONDS, new Date());
  }

  private async postStatus(): Promise<void> {
    await this.api.patchNodeStatus(nodeStatus(this.facts, this.readySince, new Date()));
  }
}

/** What this machine reports about itself, shared by every node the agent plays. */
export function machineFacts(): Pick<
  NodeFacts,
  "kernelVersion" | "osImage" | "architecture" | "cpu" | "memoryBytes" | "ephemeralStorageBytes"
> {
  const root = statfsSync("/");
  return {
    kernelVersion: os.release(),
    osImage: `${os.type()} ${os.release()} (tm-agent)`,
    architecture: goArch(os.arch()),
    cpu: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    ephemeralStorageBytes: root.blocks * root.bsize,
  };
}
