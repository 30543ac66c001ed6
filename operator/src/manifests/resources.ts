import type { V1ResourceRequirements } from "@kubernetes/client-node";
import type { TradingModelSpec } from "../api/types.ts";

type ResourcesSpec = TradingModelSpec["serving"]["resources"];
type ResourceList = NonNullable<ResourcesSpec["requests"]>;

function quantities(list: ResourceList | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  return Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));
}

/** A spec's container resources as the core API spells them (quantities are strings there). */
export function containerResources(spec: ResourcesSpec): V1ResourceRequirements {
  const requests = quantities(spec.requests);
  const limits = quantities(spec.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
