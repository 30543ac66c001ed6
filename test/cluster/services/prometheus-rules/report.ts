// Which refused rules to report, and the Event that reports one. A refusal is about the rule at the
// resourceVersion promtool read: the operator shows it on the model only while the rule is stored
// at that resourceVersion (operator/src/reconcile/monitoring.ts), so a rule that changes and is
// still refused is reported again. A rule that stays refused is reported again before the
// apiserver's event TTL (1 h by default) removes the last report.
import type { CoreV1Event } from "@kubernetes/client-node";
import { type PrometheusRule, ruleFileName } from "./rules.ts";
import type { RuleError } from "./sync.ts";

export const REPORT_AGAIN_MS = 30 * 60_000;
export const INVALID_RULES_REASON = "InvalidRules";

/** Per rule file: what was reported (resourceVersion and message) and when. */
export type Reported = Map<string, { key: string; at: number }>;

/** The refusals to report now; updates `reported` (forgetting rules no longer refused). */
export function refusalsToReport(errors: readonly RuleError[], reported: Reported, now: number): RuleError[] {
  const current = new Map(errors.map((e) => [ruleFileName(e.rule), e]));
  for (const file of reported.keys()) if (!current.has(file)) reported.delete(file);
  const due: RuleError[] = [];
  for (const [file, error] of current) {
    const key = `${error.rule.metadata?.resourceVersion ?? ""}\n${error.message}`;
    const last = reported.get(file);
    if (last && last.key === key && now - last.at < REPORT_AGAIN_MS) continue;
    reported.set(file, { key, at: now });
    due.push(error);
  }
  return due;
}

/** The core/v1 Warning Event on the PrometheusRule, naming the resourceVersion promtool refused. */
export function refusalEvent({ rule, message }: RuleError, now: Date): CoreV1Event {
  const { namespace = "", name = "", uid, resourceVersion } = (rule as PrometheusRule).metadata ?? {};
  return {
    metadata: { generateName: `${name}.`, namespace },
    involvedObject: {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      name,
      namespace,
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    reason: INVALID_RULES_REASON,
    message: `not loaded into Prometheus: ${message}`.slice(0, 1024),
    type: "Warning",
    source: { component: "tm-prometheus-rules" },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
