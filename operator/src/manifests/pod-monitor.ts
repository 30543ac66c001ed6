import type { KubernetesObject } from "@kubernetes/client-node";
import type { TradingModel } from "../api/types.ts";
import { LABEL_COMPONENT, LABEL_MODEL, LABEL_TRACK, LABEL_VERSION, labels } from "./names.ts";
import { ownedBy } from "./owner.ts";
import { PROMETHEUS_RULE_API_VERSION } from "./prometheus-rule.ts";

/**
 * A PodMonitor for the model's predictor pods of every track (a ServiceMonitor on the model's
 * Service would miss the preview and the shadow, which it does not select). honorLabels keeps the predictor's own model, version and
 * track labels; the pod labels give the same names to series scraped before the model loaded.
 */
export function predictorPodMonitor(model: TradingModel): KubernetesObject & { spec: object } {
  const { name, namespace, uid } = model.metadata;
  return {
    apiVersion: PROMETHEUS_RULE_API_VERSION,
    kind: "PodMonitor",
    metadata: {
      name,
      namespace,
      labels: labels(name, "monitoring"),
      ownerReferences: ownedBy({ name, uid }),
    },
    spec: {
      selector: { matchLabels: { [LABEL_MODEL]: name, [LABEL_COMPONENT]: "predictor" } },
      podMetricsEndpoints: [
        {
          port: "http",
          path: "/metrics",
          honorLabels: true,
          relabelings: [
            { sourceLabels: [podLabel(LABEL_MODEL)], targetLabel: "model" },
            { sourceLabels: [podLabel(LABEL_VERSION)], targetLabel: "version" },
            { sourceLabels: [podLabel(LABEL_TRACK)], targetLabel: "track" },
          ],
        },
      ],
    },
  };
}

/** The meta label Prometheus' pod discovery gives a pod label. */
const podLabel = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
