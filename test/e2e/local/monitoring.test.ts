// Monitoring as code on the local cluster, with real parts only: the operator as a host process on
// the metrics port the local Prometheus scrapes (its static `tradingmodel-operator` job, with
// honor_labels), real trainer Jobs and predictor pods, and a client that predicts, reports
// realized returns and sends bars and refused inputs through the model's Service the whole time.
// During a canary every query of every dashboard panel, its variables substituted as Grafana
// would, has data in the real Prometheus. Then a runbook URL Prometheus cannot parse as a template
// makes the rule sync refuse the model's PrometheusRule, which shows on the model, and an aborted
// rollout shows as the dashboard's rollback annotation. Local only: the static scrape job and the
// rule sync are the local cluster's.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tradingModelDashboard, VARIABLES } from "../../../operator/src/dashboard/dashboard.ts";
import {
  type PanelData,
  snapshot,
  substitute,
  variableValues,
} from "../../../operator/src/dashboard/snapshot.ts";
import { lookback } from "../../../predictor/src/features.ts";
import {
  applyModel,
  condition,
  exampleModel,
  patchSpec,
  type TradingModel,
  waitForModel,
  waitForStable,
} from "../flows/lib/models.ts";
import { featureRow } from "../flows/lib/serving.ts";
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { e2eContext } from "../support/context.ts";
import { kubectl } from "../support/kubectl.ts";
import { runLoad } from "../support/load.ts";
import { useNamespace } from "../support/namespace.ts";
import { query, ruleGroups } from "../support/prometheus.ts";
import { openService, type ServiceEndpoint } from "../support/service.ts";
import { waitFor } from "../support/wait.ts";

const MODEL = "spy-momentum";
/** Where the local Prometheus scrapes an operator run on the host (test/cluster/services/lib.sh). */
const OPERATOR_METRICS_PORT = Number(process.env.TM_OPERATOR_METRICS_PORT ?? 9098);
// Training 50,000 bars and starting predictor pods on a loaded 2-core machine.
const TRAINED_MS = 6 * 60_000;
/** Feedback lands on a random pod of the Service; only the one that predicted holds the id. */
const FEEDBACK_ATTEMPTS = 8;

/** One request on a new connection (the Service balances connections): its status and body. */
async function post(
  address: string,
  path: string,
  body: unknown,
): Promise<{ status?: number; body?: string }> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const { outcomes } = await runLoad({ address, path, body: text, count: 1, intervalMs: 0 });
  return outcomes[0] ?? {};
}

/** A window of minute bars ending now, as a data feed would send it. */
function barsEndingNow(count: number) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const close = 100 * Math.exp(0.001 * i + 0.002 * Math.sin(i + now / 60_000));
    return {
      ts: now - (count - 1 - i) * 60_000,
      open: close * 0.999,
      high: close * 1.003,
      low: close * 0.996,
      close,
      volume: 1000 + i,
    };
  });
}

/**
 * What a trading client does, in a loop until stopped: a prediction from features and its realized
 * return reported back, a prediction from raw bars, and now and then a body the predictor refuses.
 */
function tradingClient(address: string, features: readonly string[], bars: number) {
  let stopped = false;
  const counts = { predictions: 0, scored: 0, refused: 0 };
  const done = (async () => {
    for (let round = 0; !stopped; round++) {
      const answer = await post(address, "/v1/predict", { features: featureRow(features) });
      if (answer.status === 200) {
        counts.predictions++;
        const { predictionId } = JSON.parse(answer.body ?? "{}") as { predictionId: string };
        const realized = (Math.random() - 0.45) * 0.02;
        for (let i = 0; i < FEEDBACK_ATTEMPTS; i++) {
          if ((await post(address, "/v1/feedback", { predictionId, realized })).status === 200) {
            counts.scored++;
            break;
          }
        }
      }
      if ((await post(address, "/v1/predict", { bars: barsEndingNow(bars) })).status === 200)
        counts.predictions++;
      if (round % 5 === 0 && (await post(address, "/v1/predict", "{not json")).status === 400)
        counts.refused++;
      await sleep(50);
    }
  })();
  return {
    counts,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** Every query of every panel without a point, named by panel and legend. */
const emptyQueries = (panels: PanelData[]) =>
  panels.flatMap((p) => p.queries.filter((q) => q.points === 0).map((q) => `${p.title}: ${q.legend}`));

describe("monitoring of a model on the local cluster", () => {
  const ns = useNamespace("e2e-monitoring");
  let operator: OperatorProcess | undefined;
  let service: ServiceEndpoint | undefined;
  let client: ReturnType<typeof tradingClient> | undefined;

  beforeAll(installCrds);
  afterAll(async () => {
    await client?.stop();
    service?.close();
    if (operator) await stopOperator(operator, "SIGKILL");
  });

  it(
    "shows data in every query of every dashboard panel during a canary, variables substituted as Grafana would",
    async () => {
      const { prometheusUrl } = e2eContext();
      expect(prometheusUrl).not.toBe("");
      operator = startOperator({
        identity: "op-monitoring",
        leaseNamespace: ns.name,
        watchNamespace: ns.name,
        args: [`--prometheus-url=${prometheusUrl}`, `--metrics-port=${OPERATOR_METRICS_PORT}`],
      });
      const model = await exampleModel("spy-momentum.yaml", ns.name);
      model.spec.serving = { replicas: 2 };
      model.spec.rollout = { strategy: "Canary", canary: { steps: [25, 50, 100] } };
      model.spec.analysis = { interval: "5s", window: "15s", minSamples: 20, latencyP95Ms: { max: 1000 } };
      await applyModel(model);
      await waitForStable(ns.name, MODEL, 1, TRAINED_MS);

      service = await openService(ns.name, MODEL, "http");
      const features = model.spec.features as string[];
      client = tradingClient(service.address, features, lookback(features));
      // v2 held at its first step once traffic reached it: the canary serves beside stable while
      // the panels are read (the first analysis needs a full window, so the step lasts that long).
      await patchSpec(ns.name, MODEL, { training: { retrainRequest: "v2" } });
      await waitForModel(
        ns.name,
        MODEL,
        "v2 taking traffic in its canary",
        (m) => m.status?.rollout?.version === 2 && (m.status.canaryWeight ?? 0) > 0,
        { timeoutMs: TRAINED_MS, intervalMs: 250 },
      );
      await patchSpec(ns.name, MODEL, { rollout: { paused: true } });
      const canary = await waitForModel(
        ns.name,
        MODEL,
        "v2 paused in its canary",
        (m) => m.status?.rollout?.phase === "Paused",
        { timeoutMs: 30_000 },
      );
      const weight = canary.status?.canaryWeight ?? 0;
      expect(weight).toBeGreaterThan(0);

      const options = { prometheusUrl, namespace: ns.name, model: MODEL, rangeSeconds: 600 };
      const [namespaces, models] = await Promise.all(
        VARIABLES.slice(0, 2).map((v) => variableValues(options, v.query)),
      );
      expect(namespaces).toContain(ns.name);
      expect(models).toEqual([MODEL]);
      // Until the canary's pods are scraped: its version among the values Grafana offers and its
      // track on the throughput panel; then every query of every panel must have data.
      let panels: PanelData[] = [];
      await waitFor(
        "the canary scraped and every query of every panel with data",
        async () => {
          const versions = await variableValues(options, VARIABLES[2].query);
          if (!versions.includes("v2")) throw new Error(`version values ${versions.join(", ")}: no v2 yet`);
          panels = (await snapshot(options)).panels;
          const tracks = new Set(panels.find((p) => p.title === "Throughput")?.points.map((p) => p.series));
          if (!tracks.has("canary"))
            throw new Error(`throughput of ${[...tracks].join(", ")}: no canary yet`);
          const empty = emptyQueries(panels);
          if (empty.length > 0) throw new Error(`no data: ${empty.join("; ")}`);
          return true;
        },
        { timeoutMs: 180_000, intervalMs: 5_000 },
      );
      const rollout = panels.find((p) => p.title === "Canary weight and step")?.points ?? [];
      expect(rollout.filter((p) => p.series === "weight %").at(-1)?.value).toBe(weight);
      const { svg } = await snapshot(options);
      const file = join(await mkdtemp(join(tmpdir(), "tm-dashboard-")), `${ns.name}.svg`);
      await writeFile(file, svg);
      console.log(`dashboard during the canary: ${file}; client ${JSON.stringify(client.counts)}`);
      expect(svg).not.toContain("no data");
    },
    2 * TRAINED_MS + 5 * 60_000,
  );

  it("shows a rule Prometheus refuses as Monitored False on the model, until a later apply is accepted", async () => {
    // Every annotation is a template to Prometheus: an unclosed action in the runbook URL is valid
    // to the CRD (any URL is) and refused by promtool.
    await patchSpec(ns.name, MODEL, {
      monitoring: { runbookBaseUrl: "https://runbooks.example.com/{{ .Team" },
    });
    const refused = await waitFor(
      "Monitored False (RulesRejected) in kubectl get tm -o yaml",
      async () => {
        const m = parse(await kubectl(["get", "tm", MODEL, "-n", ns.name, "-o", "yaml"])) as TradingModel;
        const monitored = condition(m, "Monitored");
        if (monitored?.reason === "RulesRejected") return monitored;
        throw new Error(`Monitored: ${JSON.stringify(monitored)}`);
      },
      { timeoutMs: 60_000 },
    );
    expect(refused.status).toBe("False");
    expect(refused.message).toMatch(
      /^PrometheusRule spy-momentum \(resourceVersion \d+\) refused by tm-prometheus-rules: not loaded into Prometheus: .*annotation "runbook_url": template: /s,
    );
    const described = await kubectl(["describe", "tm", MODEL, "-n", ns.name]);
    expect(described).toContain("RulesRejected");

    // A template Prometheus reads: the rule is applied, accepted and loaded, and the condition clears.
    await patchSpec(ns.name, MODEL, {
      monitoring: { runbookBaseUrl: "https://runbooks.example.com/{{ $labels.namespace }}/monitoring.md" },
    });
    const accepted = await waitForModel(
      ns.name,
      MODEL,
      "Monitored True again",
      (m) => condition(m, "Monitored")?.status === "True",
      { timeoutMs: 60_000 },
    );
    expect(condition(accepted, "Monitored")?.reason).toBe("AlertRulesInstalled");
    const group = await waitFor(
      "the model's rule group loaded with the new runbook URL",
      async () =>
        (await ruleGroups()).find(
          (g) =>
            g.name === `tradingmodel.${ns.name}.${MODEL}` &&
            JSON.stringify(g).includes("runbooks.example.com/{{ $labels.namespace }}"),
        ),
      { timeoutMs: 60_000 },
    );
    expect(group.rules.length).toBeGreaterThanOrEqual(9);
    // The operator applies the rule on every reconcile and watches it: an apply that changes
    // nothing writes nothing, so the watch does not wake the operator into a loop.
    const version = () =>
      kubectl(["get", "prometheusrule", MODEL, "-n", ns.name, "-o", "jsonpath={.metadata.resourceVersion}"]);
    const before = await version();
    await sleep(5_000);
    expect(await version()).toBe(before);
  });

  it("marks an aborted rollout on the time axis: the dashboard's rollback annotation has an event", async () => {
    await patchSpec(ns.name, MODEL, { rollout: { paused: false, abortVersion: 2 } });
    await waitForModel(ns.name, MODEL, "v2 aborted", (m) => m.status?.rollout?.phase === "Aborted", {
      timeoutMs: 60_000,
    });
    const { annotations } = tradingModelDashboard() as unknown as {
      annotations: { list: { name: string; expr?: string }[] };
    };
    const rollback = annotations.list.find((a) => a.name === "Rollback")?.expr ?? "";
    const expr = substitute(rollback, { prometheusUrl: "", namespace: ns.name, model: MODEL }, 60);
    // The counter existed at 0 before the abort: changes() sees its first step.
    const samples = await waitFor(
      `${expr} with a result`,
      async () => {
        const result = await query(expr);
        return result.length > 0 ? result : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(samples.map((s) => s.metric.reason)).toEqual(["RolloutAborted"]);
  });
});
