import type { V1Role, V1RoleBinding, V1ServiceAccount } from "@kubernetes/client-node";
import type { TradingModel } from "../api/types.ts";
import { artifactConfigMapName, labels, trainerServiceAccountName } from "./names.ts";
import { ownedBy } from "./owner.ts";

function metadata(model: TradingModel) {
  return {
    name: trainerServiceAccountName(model.metadata.name),
    namespace: model.metadata.namespace,
    labels: labels(model.metadata.name, "trainer"),
    ownerReferences: ownedBy(model.metadata),
  };
}

export function trainerServiceAccount(model: TradingModel): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: metadata(model),
    automountServiceAccountToken: false,
  };
}

/**
 * What the training pod may do: create ConfigMaps (create cannot be narrowed to a name) and read
 * back the one artifact of the version in training, to tell its own earlier attempt from a clash.
 * Nothing else: no Secrets, no list, no update or delete.
 */
export function trainerRole(model: TradingModel, trainingVersion: number): V1Role {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: metadata(model),
    rules: [
      { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
      {
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get"],
        resourceNames: [artifactConfigMapName(model.metadata.name, trainingVersion)],
      },
    ],
  };
}

export function trainerRoleBinding(model: TradingModel): V1RoleBinding {
  const name = trainerServiceAccountName(model.metadata.name);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: metadata(model),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace: model.metadata.namespace }],
  };
}
