// The loopback service proxy daemon, started by cluster-up (services.sh):
//   node main.ts --kubeconfig F --listen 127.0.0.1:10300 [--forward IP:PORT=IP:PORT]…
// Serves the control API (control.ts) on --listen and publishes its URL in the ConfigMap
// kube-system/tm-service-proxy, where serviceAddress() and svc-addr find it. Each --forward is a
// plain TCP forward, e.g. from the bridge address to a host service that listens on loopback only.
import { parseArgs } from "node:util";
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  makeInformer,
  type V1ConfigMap,
  type V1EndpointSlice,
  type V1Service,
} from "@kubernetes/client-node";
import pino from "pino";
import { statusCode, withRetry } from "../../agent/retry.ts";
import { keepRunning } from "../informer.ts";
import { PROXY_CONFIGMAP } from "../service-address.ts";
import { controlServer } from "./control.ts";
import { ServiceProxy } from "./proxy.ts";
import { listen, parseHostPort } from "./tcp.ts";

const log = pino({ base: { component: "service-proxy" } });

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: "string" },
      listen: { type: "string", default: "127.0.0.1:10300" },
      forward: { type: "string", multiple: true, default: [] },
    },
  });
  if (!values.kubeconfig) throw new Error("--kubeconfig is required");
  const control = parseHostPort("listen", values.listen);
  const kc = new KubeConfig();
  kc.loadFromFile(values.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);

  const services = makeInformer<V1Service>(kc, "/api/v1/services", () => core.listServiceForAllNamespaces());
  const slices = makeInformer<V1EndpointSlice>(kc, "/apis/discovery.k8s.io/v1/endpointslices", () =>
    discovery.listEndpointSliceForAllNamespaces(),
  );
  await Promise.all([keepRunning(services, "services", log), keepRunning(slices, "endpointslices", log)]);

  const proxy = new ServiceProxy({
    service: (namespace, name) => services.get(name, namespace),
    readService: async (namespace, name) => {
      try {
        return await withRetry(() => core.readNamespacedService({ name, namespace }));
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
    slices: (namespace) => slices.list(namespace),
  });

  for (const spec of values.forward) {
    const [from, to] = spec.split("=");
    const source = parseHostPort("forward", from ?? "");
    const target = parseHostPort("forward", to ?? "");
    await listen(source.ip, source.port, () => target);
    log.info({ from, to }, "forward");
  }

  const server = controlServer(proxy);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(control.port, control.ip, resolve);
  });
  const url = `http://${control.ip}:${control.port}`;
  await publish(core, url);
  log.info({ url }, "service proxy running");

  const stop = (signal: string) => {
    log.info({ signal }, "stopping");
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** Writes the control URL into the ConfigMap, creating it on first start. */
async function publish(core: CoreV1Api, url: string): Promise<void> {
  const body: V1ConfigMap = {
    metadata: { name: PROXY_CONFIGMAP.name, namespace: PROXY_CONFIGMAP.namespace },
    data: { url },
  };
  await withRetry(async () => {
    try {
      await core.replaceNamespacedConfigMap({ ...PROXY_CONFIGMAP, body });
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
      await core.createNamespacedConfigMap({ namespace: PROXY_CONFIGMAP.namespace, body });
    }
  });
}

main().catch((err: unknown) => {
  log.fatal({ err: String(err) }, "service proxy failed to start");
  process.exit(1);
});
