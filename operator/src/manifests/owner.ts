import type { V1OwnerReference } from "@kubernetes/client-node";
import { API_VERSION } from "../api/crd.ts";

/**
 * Makes the TradingModel the controller owner of a child, so deleting the model garbage-collects
 * it and the operator's watches map the child back to its model.
 */
export function ownedBy(model: { name: string; uid: string }): V1OwnerReference[] {
  return [
    {
      apiVersion: API_VERSION,
      kind: "TradingModel",
      name: model.name,
      uid: model.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}
