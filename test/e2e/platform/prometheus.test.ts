// Prometheus finds and scrapes a new predictor pod by its annotations, keeps the model's labels,
// and loads PrometheusRules created in the cluster (rejecting invalid ones with an Event).
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { apply, getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { readyPods } from "../support/pods.ts";
import { deployPredictor } from "../support/predictor.ts";
import { query, rawSamples, ruleGroups } from "../support/prometheus.ts";
import { waitFor } from "../support/wait.ts";

const ns = useNamespace("e2e-prom");
const SCRAPE_INTERVAL_S = 1;
// Prometheus hands discovered targets to the scrape manager in batches at most every 5 s (fixed in
// its discovery manager), then the first scrape follows within one interval.
const DISCOVERY_BATCH_S = 5;

let pod: V1Pod;

beforeAll(async () => {
  await deployPredictor({ namespace: ns.name, name: "scraped", replicas: 1 });
  [pod] = (await readyPods(ns.name, "app=scraped")) as [V1Pod];
});

function prometheusRule(name: string, expr: string): object {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { namespace: ns.name, name },
    spec: { groups: [{ name: `${name}.rules`, rules: [{ record: `e2e:${name}:ready`, expr }] }] },
  };
}

describe("Prometheus", () => {
  it("scrapes a new pod within the discovery batch plus two scrape intervals of its turning Ready", async () => {
    const podName = pod.metadata?.name as string;
    const createdAt = Date.parse(pod.metadata?.creationTimestamp as unknown as string) / 1000;
    const ready = pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
    const readyAt = Date.parse(ready as unknown as string) / 1000;
    const selector = `predictor_ready{namespace="${ns.name}",pod="${podName}"}`;
    // The series exists from the first successful scrape on; its oldest sample is that scrape,
    // which may come before Ready (/metrics answers while the artifact still loads).
    const samples = await waitFor(
      `a sample of ${selector}`,
      async () => {
        const values = await rawSamples(selector, "5m");
        return values.length > 0 ? values : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const firstScrape = samples[0]?.[0] ?? Number.NaN;
    expect(firstScrape).toBeGreaterThanOrEqual(createdAt);
    // Both timestamps of the pod have whole seconds: one more second of slack.
    expect(firstScrape - readyAt).toBeLessThanOrEqual(DISCOVERY_BATCH_S + 2 * SCRAPE_INTERVAL_S + 1);
  });

  it("keeps the model, version and track labels and the pod's namespace and name", async () => {
    const podName = pod.metadata?.name as string;
    const [sample] = await query(`predictor_ready{namespace="${ns.name}"}`);
    expect(sample?.metric).toMatchObject({
      model: "scraped",
      version: "v1",
      track: "stable",
      namespace: ns.name,
      pod: podName,
      container: "predictor",
    });
    expect(sample?.value[1]).toBe("1");
  });

  it("loads a PrometheusRule created in the cluster and evaluates it", async () => {
    await apply(prometheusRule("readiness", `sum(predictor_ready{namespace="${ns.name}"})`));
    const group = await waitFor("the rule group readiness.rules", async () =>
      (await ruleGroups()).find(
        (g) => g.name === "readiness.rules" && g.file.endsWith(`${ns.name}__readiness.yaml`),
      ),
    );
    expect(group.rules.map((r) => r.name)).toEqual(["e2e:readiness:ready"]);
    const [value] = await waitFor("the recorded series", async () => {
      const r = await query("e2e:readiness:ready");
      return r.length > 0 ? r : undefined;
    });
    expect(value?.value[1]).toBe("1");
  });

  it("refuses an invalid PrometheusRule with a Warning Event naming promtool's complaint", async () => {
    await apply(prometheusRule("broken", "sum(rate(predictor_ready[1m])"));
    const event = await waitFor("an InvalidRules Event on PrometheusRule broken", async () => {
      const events = await getJson<{ items: CoreV1Event[] }>(["events", "-n", ns.name]);
      return events.items.find((e) => e.reason === "InvalidRules" && e.involvedObject.name === "broken");
    });
    expect(event.type).toBe("Warning");
    expect(event.message).toMatch(/not loaded into Prometheus: .*broken\.yaml/s);
    expect((await ruleGroups()).some((g) => g.name === "broken.rules")).toBe(false);
  });
});
