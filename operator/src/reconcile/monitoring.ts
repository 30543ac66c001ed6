import type { CoreV1Event, KubernetesObject } from "@kubernetes/client-node";
import { findCondition, Reason } from "../conditions.ts";
import { predictorPodMonitor } from "../manifests/pod-monitor.ts";
import { PROMETHEUS_RULE_API_VERSION, prometheusRule } from "../manifests/prometheus-rule.ts";
import { type Context, condition, event, highestIn } from "./context.ts";
import { NO_MONITORING_APIS } from "./observed.ts";

/** The reason of the Warning Event a rule loader records on a PrometheusRule it refused. */
export const INVALID_RULES_REASON = "InvalidRules";

const eventTime = (e: CoreV1Event) =>
  new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? 0).getTime();

/**
 * The newest refusal of the PrometheusRule as stored now: a Warning Event with reason
 * InvalidRules about this very object (its uid) at its current resourceVersion. A refusal of an
 * earlier resourceVersion no longer says anything: the rule changed since, and the loader reports
 * the new one if it refuses it too. Undefined when the rule is not stored or nothing refused it.
 */
export function currentRejection(
  rule: KubernetesObject | undefined,
  events: readonly CoreV1Event[],
): CoreV1Event | undefined {
  const { name, uid, resourceVersion } = rule?.metadata ?? {};
  if (!name || !resourceVersion) return undefined;
  return events
    .filter(
      (e) =>
        e.type === "Warning" &&
        e.reason === INVALID_RULES_REASON &&
        e.involvedObject.kind === "PrometheusRule" &&
        e.involvedObject.apiVersion === PROMETHEUS_RULE_API_VERSION &&
        e.involvedObject.name === name &&
        (e.involvedObject.uid === undefined || e.involvedObject.uid === uid) &&
        e.involvedObject.resourceVersion === resourceVersion,
    )
    .sort((a, b) => eventTime(b) - eventTime(a))[0];
}

/**
 * Monitoring as code, once a version serves: the model's PrometheusRule and, where the cluster has
 * prometheus-operator's PodMonitor, a PodMonitor for its predictors (their pods carry the
 * prometheus.io scrape annotations either way). Without the PrometheusRule API the model serves
 * all the same, and the Monitored condition says its alerts are not installed. A rule loader that
 * refused the rule as stored makes Monitored False until a later apply changes it; the rule is
 * applied all the same, so a corrected spec reaches Prometheus.
 */
export function monitoringStep(ctx: Context): void {
  if (!highestIn(ctx, "Production")) return;
  const apis = ctx.observed.monitoringApis ?? NO_MONITORING_APIS;
  if (apis.podMonitors) ctx.plan.apply.push(predictorPodMonitor(ctx.model));
  const scraping = apis.podMonitors
    ? `predictors scraped through PodMonitor ${ctx.model.metadata.name}`
    : "predictors scraped by their prometheus.io annotations (no PodMonitor API)";
  if (!apis.prometheusRules) {
    condition(
      ctx,
      "Monitored",
      "False",
      Reason.PrometheusRuleAPIMissing,
      `alert rules not installed: the cluster serves no monitoring.coreos.com/v1 PrometheusRule (install prometheus-operator's CRDs); the model serves regardless; ${scraping}`,
    );
    return;
  }
  const rule = prometheusRule(ctx.model);
  ctx.plan.apply.push(rule);
  const stored = ctx.observed.alertRules?.stored;
  const rejection = currentRejection(stored, ctx.observed.alertRules?.rejections ?? []);
  if (rejection) {
    const by = rejection.source?.component ?? rejection.reportingComponent ?? "a rule loader";
    const message = `PrometheusRule ${rule.metadata?.name} (resourceVersion ${stored?.metadata?.resourceVersion}) refused by ${by}: ${rejection.message ?? "no message"}`;
    const before = findCondition(ctx.model.status?.conditions ?? [], "Monitored");
    if (before?.reason !== Reason.RulesRejected || before.message !== message) {
      event(ctx, "Warning", Reason.RulesRejected, message);
    }
    condition(ctx, "Monitored", "False", Reason.RulesRejected, message);
    return;
  }
  const alerts = rule.spec.groups.flatMap((g) => g.rules).length;
  condition(
    ctx,
    "Monitored",
    "True",
    Reason.AlertRulesInstalled,
    `PrometheusRule ${rule.metadata?.name} holds ${alerts} alerts; ${scraping}`,
  );
}
