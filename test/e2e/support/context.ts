// What the global setup hands every e2e test: which cluster, and how to reach it.
import { inject } from "vitest";

export type E2EContext = {
  /** The kubeconfig every helper uses. */
  kubeconfig: string;
  /** kubectl matching the cluster (the local cluster's own, or E2E_KUBECTL / kubectl on PATH). */
  kubectl: string;
  /** The local cluster's state directory (.cluster); empty for a cluster named by E2E_KUBECONFIG. */
  localClusterDir: string;
  /** Prometheus's HTTP API: the local cluster's, or E2E_PROMETHEUS_URL; empty when there is none. */
  prometheusUrl: string;
};

declare module "vitest" {
  export interface ProvidedContext {
    e2e: E2EContext;
  }
}

export function e2eContext(): E2EContext {
  return inject("e2e");
}
