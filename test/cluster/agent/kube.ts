// The apiserver as one node sees it, with that node's own credentials (system:node:<name>), so the
// Node authorizer and NodeRestriction apply. Every call has a timeout and bounded retries.
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type CoreV1Event,
  KubeConfig,
  ListWatch,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Node,
  type V1Pod,
  type V1ResourceAttributes,
  type V1Secret,
  type V1Service,
  Watch,
} from "@kubernetes/client-node";
import { statusCode, withRetry } from "./retry.ts";

const CALL_TIMEOUT_MS = 10_000;

type Options = ReturnType<typeof setHeaderOptions>;

function withTimeout(options?: Options): Options {
  const timeout = {
    pre: (ctx: { setSignal: (s: AbortSignal) => void }) => {
      ctx.setSignal(AbortSignal.timeout(CALL_TIMEOUT_MS));
      return new Observable(Promise.resolve(ctx));
    },
    post: <R>(r: R) => new Observable(Promise.resolve(r)),
  };
  return {
    ...options,
    middleware: [...(options?.middleware ?? []), timeout],
    middlewareMergeStrategy: "append",
  } as Options;
}

const strategicMerge = () => withTimeout(setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch));
const mergePatch = () => withTimeout(setHeaderOptions("Content-Type", PatchStrategy.MergePatch));

async function orNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    if (statusCode(err) === 404) return null;
    throw err;
  }
}

/** "2026-11-24T10:00:00.123456Z": a metav1.MicroTime needs exactly six fraction digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export type IssuedToken = { token: string; expiresAt: Date };

export type PodEvent = { type: "Normal" | "Warning"; reason: string; message: string; container?: string };

export class NodeApi {
  readonly nodeName: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(nodeName: string, kubeconfigPath: string) {
    this.nodeName = nodeName;
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(kubeconfigPath);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.coordination = this.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** The apiserver's host and port from the kubeconfig. */
  apiserverAddress(): { host: string; port: number } {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error(`kubeconfig of ${this.nodeName}: no current cluster server`);
    const url = new URL(server);
    return { host: url.hostname, port: Number(url.port || 443) };
  }

  async readNode(): Promise<V1Node | null> {
    return await withRetry(() => orNull(() => this.core.readNode({ name: this.nodeName }, withTimeout())));
  }

  async createNode(node: V1Node): Promise<V1Node> {
    return await withRetry(() => this.core.createNode({ body: node }, withTimeout()));
  }

  async patchNodeStatus(status: unknown): Promise<void> {
    await withRetry(() =>
      this.core.patchNodeStatus({ name: this.nodeName, body: { status } }, strategicMerge()),
    );
  }

  /** Renews the node's Lease in kube-node-lease, creating it (owned by the Node) when missing. */
  async renewLease(nodeUID: string, durationSeconds: number, now: Date): Promise<void> {
    const namespace = "kube-node-lease";
    const renew = {
      spec: {
        holderIdentity: this.nodeName,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
      },
    };
    await withRetry(async () => {
      try {
        await this.coordination.patchNamespacedLease(
          { name: this.nodeName, namespace, body: renew },
          mergePatch(),
        );
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
        const owner = { apiVersion: "v1", kind: "Node", name: this.nodeName, uid: nodeUID };
        const body = {
          metadata: { name: this.nodeName, namespace, ownerReferences: [owner] },
          spec: { holderIdentity: this.nodeName, leaseDurationSeconds: durationSeconds },
        };
        await this.coordination.createNamespacedLease({ namespace, body }, withTimeout());
        await this.coordination.patchNamespacedLease(
          { name: this.nodeName, namespace, body: renew },
          mergePatch(),
        );
      }
    });
  }

  async listPods(): Promise<V1Pod[]> {
    const fieldSelector = `spec.nodeName=${this.nodeName}`;
    return (await withRetry(() => this.core.listPodForAllNamespaces({ fieldSelector }, withTimeout()))).items;
  }

  /** A list+watch of the pods bound to this node; not started. */
  podWatch(): ListWatch<V1Pod> {
    const fieldSelector = `spec.nodeName=${this.nodeName}`;
    const list = () => this.core.listPodForAllNamespaces({ fieldSelector }, withTimeout());
    return new ListWatch<V1Pod>(
      "/api/v1/pods",
      new Watch(this.kubeConfig),
      list,
      false,
      undefined,
      fieldSelector,
    );
  }

  async patchPodStatus(namespace: string, name: string, status: unknown): Promise<void> {
    await withRetry(() =>
      this.core.patchNamespacedPodStatus({ name, namespace, body: { status } }, strategicMerge()),
    );
  }

  /** Removes the pod object once its containers are gone, as the kubelet does (grace 0, same UID). */
  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    await withRetry(() =>
      orNull(() =>
        this.core.deleteNamespacedPod(
          { name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } },
          withTimeout(),
        ),
      ),
    );
  }

  async readConfigMap(namespace: string, name: string): Promise<V1ConfigMap | null> {
    return await withRetry(() =>
      orNull(() => this.core.readNamespacedConfigMap({ name, namespace }, withTimeout())),
    );
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | null> {
    return await withRetry(() =>
      orNull(() => this.core.readNamespacedSecret({ name, namespace }, withTimeout())),
    );
  }

  async listServices(namespace: string): Promise<V1Service[]> {
    return (await withRetry(() => this.core.listNamespacedService({ namespace }, withTimeout()))).items;
  }

  async readService(namespace: string, name: string): Promise<V1Service | null> {
    return await withRetry(() =>
      orNull(() => this.core.readNamespacedService({ name, namespace }, withTimeout())),
    );
  }

  /** A core/v1 Event about a pod, as the kubelet reports container starts, kills, back-offs and probe failures. */
  async podEvent(pod: V1Pod, e: PodEvent): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const now = new Date();
    const body: CoreV1Event = {
      metadata: {
        name: `${pod.metadata?.name}.${now.getTime().toString(16)}${Math.random().toString(16).slice(2, 6)}`,
        namespace,
      },
      involvedObject: {
        apiVersion: "v1",
        kind: "Pod",
        name: pod.metadata?.name,
        namespace,
        uid: pod.metadata?.uid,
        ...(e.container ? { fieldPath: `spec.containers{${e.container}}` } : {}),
      },
      type: e.type,
      reason: e.reason,
      message: e.message,
      source: { component: "kubelet", host: this.nodeName },
      reportingComponent: "kubelet",
      reportingInstance: this.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await withRetry(() => this.core.createNamespacedEvent({ namespace, body }, withTimeout()));
  }

  /** SubjectAccessReview, as the kubelet's webhook authorization asks it (nodes may create them). */
  async accessAllowed(
    user: string,
    groups: string[],
    resourceAttributes: V1ResourceAttributes,
  ): Promise<boolean> {
    const authz = this.kubeConfig.makeApiClient(AuthorizationV1Api);
    const review = await withRetry(() =>
      authz.createSubjectAccessReview(
        { body: { spec: { user, groups, resourceAttributes } } },
        withTimeout(),
      ),
    );
    return review.status?.allowed === true;
  }

  /** TokenRequest for the pod's ServiceAccount, bound to the pod (NodeRestriction requires that). */
  async requestToken(pod: V1Pod, audience: string, expirationSeconds: number): Promise<IssuedToken> {
    const namespace = pod.metadata?.namespace ?? "default";
    const sa = pod.spec?.serviceAccountName ?? "default";
    const body = {
      spec: {
        audiences: audience ? [audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    };
    const res = await withRetry(() =>
      this.core.createNamespacedServiceAccountToken({ name: sa, namespace, body }, withTimeout()),
    );
    const token = res.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${sa} returned no token`);
    return {
      token,
      expiresAt: new Date(res.status?.expirationTimestamp ?? Date.now() + expirationSeconds * 1000),
    };
  }
}
