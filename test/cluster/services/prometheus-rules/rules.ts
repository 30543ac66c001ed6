// PrometheusRule objects (monitoring.coreos.com/v1) as Prometheus rule files: one file per object,
// named after its namespace and name, holding its spec.groups as Prometheus reads them. The
// Prometheus Operator does the same, so rules written for a real cluster load here unchanged.
import { stringify } from "yaml";

export type PrometheusRule = {
  metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  spec?: { groups?: unknown[] };
};

export const RULE_FILE_SUFFIX = ".yaml";

export function ruleFileName(rule: PrometheusRule): string {
  const ns = rule.metadata?.namespace;
  const name = rule.metadata?.name;
  if (!ns || !name) throw new Error("PrometheusRule without metadata.namespace or metadata.name");
  // Namespaces and names are DNS labels/subdomains: "__" cannot occur in either.
  return `${ns}__${name}${RULE_FILE_SUFFIX}`;
}

export function ruleFileContent(rule: PrometheusRule): string {
  return stringify({ groups: rule.spec?.groups ?? [] });
}

/** The rule files the rules directory should hold: file name -> content. */
export function desiredRuleFiles(rules: readonly PrometheusRule[]): Map<string, string> {
  return new Map(rules.map((r) => [ruleFileName(r), ruleFileContent(r)]));
}
