import { Reason } from "../conditions.ts";
import { predictorPodMonitor } from "../manifests/pod-monitor.ts";
import { prometheusRule } from "../manifests/prometheus-rule.ts";
import { type Context, condition, highestIn } from "./context.ts";
import { NO_MONITORING_APIS } from "./observed.ts";

/**
 * Monitoring as code, once a version serves: the model's PrometheusRule and, where the cluster has
 * prometheus-operator's PodMonitor, a PodMonitor for its predictors (their pods carry the
 * prometheus.io scrape annotations either way). Without the PrometheusRule API the model serves
 * all the same, and the Monitored condition says its alerts are not installed.
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
  const alerts = rule.spec.groups.flatMap((g) => g.rules).length;
  condition(
    ctx,
    "Monitored",
    "True",
    Reason.AlertRulesInstalled,
    `PrometheusRule ${rule.metadata?.name} holds ${alerts} alerts; ${scraping}`,
  );
}
