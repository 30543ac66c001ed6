import type {
  V1PodSecurityContext,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";

/** The project's images run as the `node` user of node:24-slim. */
const RUN_AS = 1000;

/** Pod-level settings of the `restricted` Pod Security Standard. */
export const restrictedPodSecurity: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  fsGroup: RUN_AS,
  seccompProfile: { type: "RuntimeDefault" },
};

/** Container-level settings of the `restricted` Pod Security Standard, plus a read-only root. */
export const restrictedContainerSecurity: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** A writable /tmp for a container whose root filesystem is read-only. */
export const tmpVolume: V1Volume = { name: "tmp", emptyDir: { sizeLimit: "64Mi" } };
export const tmpMount: V1VolumeMount = { name: "tmp", mountPath: "/tmp" };
