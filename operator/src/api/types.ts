import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import type { FromSchema } from "./json-schema.ts";
import type {
  modelVersionSchema,
  modelVersionSpecSchema,
  modelVersionStatusSchema,
  STAGES,
} from "./modelversion.ts";
import type {
  PHASES,
  tradingModelSchema,
  tradingModelSpecSchema,
  tradingModelStatusSchema,
} from "./tradingmodel.ts";

/**
 * The API's TypeScript types, computed from the schema literals. `…Input` is what a user may write;
 * the plain names are what the operator reads back after the apiserver applied the defaults.
 */

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  /** Set once the object is being deleted; it stays until its finalizers are gone. */
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: V1OwnerReference[];
}

/** An object as the operator builds it, before the apiserver assigned uid and status. */
export type Manifest<T extends { metadata: unknown }> = Omit<T, "metadata" | "status"> & {
  metadata: V1ObjectMeta;
};

type Resource<S, Kind extends string> = Omit<FromSchema<S>, "apiVersion" | "kind" | "metadata"> & {
  apiVersion: "trading.mlops.dev/v1alpha1";
  kind: Kind;
  metadata: ObjectMeta;
};

export type TradingModelSpec = FromSchema<typeof tradingModelSpecSchema>;
export type TradingModelSpecInput = FromSchema<typeof tradingModelSpecSchema, "input">;
export type TradingModelStatus = FromSchema<typeof tradingModelStatusSchema>;
export type TradingModel = Resource<typeof tradingModelSchema, "TradingModel">;

export type ModelVersionSpec = FromSchema<typeof modelVersionSpecSchema>;
export type ModelVersionStatus = FromSchema<typeof modelVersionStatusSchema>;
export type ModelVersion = Resource<typeof modelVersionSchema, "ModelVersion">;

export type Condition = NonNullable<TradingModelStatus["conditions"]>[number];
export type HoldoutMetrics = NonNullable<ModelVersionStatus["metrics"]>;
export type Phase = (typeof PHASES)[number];
export type Stage = (typeof STAGES)[number];
