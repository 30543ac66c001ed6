// The PrometheusRule sync daemon, started by cluster-up (services.sh):
//   node main.ts --kubeconfig F --rules-dir D --prometheus http://127.0.0.1:9090 [--promtool P]
// Syncs on every watch event (debounced) and every 30 s, one sync at a time (sync.ts).
import { parseArgs } from "node:util";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesListObject,
  makeInformer,
} from "@kubernetes/client-node";
import pino from "pino";
import { withRetry } from "../../agent/retry.ts";
import { keepRunning } from "../informer.ts";
import { type Reported, refusalEvent, refusalsToReport } from "./report.ts";
import type { PrometheusRule } from "./rules.ts";
import { type RuleError, syncRules } from "./sync.ts";

const log = pino({ base: { component: "prometheus-rules" } });
const RESYNC_MS = 30_000;
const DEBOUNCE_MS = 100;
const GROUP = { group: "monitoring.coreos.com", version: "v1", plural: "prometheusrules" };

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    "rules-dir": { type: "string" },
    prometheus: { type: "string", default: "http://127.0.0.1:9090" },
    promtool: { type: "string", default: "promtool" },
  },
});
if (!values.kubeconfig) throw new Error("--kubeconfig is required");
if (!values["rules-dir"]) throw new Error("--rules-dir is required");
const options = {
  rulesDir: values["rules-dir"],
  prometheusUrl: values.prometheus,
  promtool: values.promtool,
};

const kc = new KubeConfig();
kc.loadFromFile(values.kubeconfig);
const custom = kc.makeApiClient(CustomObjectsApi);
const core = kc.makeApiClient(CoreV1Api);
type RuleObject = PrometheusRule & { apiVersion?: string; kind?: string };
const informer = makeInformer<RuleObject>(
  kc,
  `/apis/${GROUP.group}/${GROUP.version}/${GROUP.plural}`,
  () => custom.listClusterCustomObject(GROUP) as Promise<KubernetesListObject<RuleObject>>,
);

const reported: Reported = new Map();

async function report(errors: RuleError[]): Promise<void> {
  for (const refusal of refusalsToReport(errors, reported, Date.now())) {
    const { namespace = "", name = "", resourceVersion } = refusal.rule.metadata ?? {};
    log.error(
      { rule: `${namespace}/${name}`, resourceVersion, message: refusal.message },
      "PrometheusRule rejected by promtool; not loaded",
    );
    await withRetry(() =>
      core.createNamespacedEvent({ namespace, body: refusalEvent(refusal, new Date()) }),
    ).catch((err: unknown) => log.warn({ err: String(err) }, "could not record the event"));
  }
}

let running = false;
let again = false;
let reloadPending = false;
let timer: NodeJS.Timeout | undefined;

async function sync(): Promise<void> {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    const result = await syncRules(informer.list(), { ...options, reloadPending });
    reloadPending = false;
    if (result.reloaded) log.info({ written: result.written, removed: result.removed }, "rules reloaded");
    await report(result.errors);
  } catch (err) {
    reloadPending = true;
    log.error({ err: String(err) }, "rule sync failed; retried at the next change or resync");
  } finally {
    running = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

function schedule(): void {
  clearTimeout(timer);
  timer = setTimeout(() => void sync(), DEBOUNCE_MS);
}

for (const event of ["add", "update", "delete"] as const) informer.on(event, schedule);
await keepRunning(informer, "prometheusrules", log);
schedule();
setInterval(schedule, RESYNC_MS);
log.info(options, "PrometheusRule sync running");
process.on("SIGTERM", () => process.exit(0));
