// svc-addr <namespace> <service> <port> [--kubeconfig F]: prints the 127.0.0.1 address of a
// Service port of the local cluster (see service-address.ts). Exit 1 when there is none.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { serviceAddress } from "./service-address.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { kubeconfig: { type: "string" } },
});
const [namespace, name, port] = positionals;
if (!namespace || !name || !port || positionals.length !== 3) {
  console.error("usage: svc-addr <namespace> <service> <port number or name> [--kubeconfig FILE]");
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(
  values.kubeconfig ?? process.env.KUBECONFIG ?? resolve(import.meta.dirname, "../../../.cluster/kubeconfig"),
);
try {
  console.log(await serviceAddress(kc, namespace, name, port));
} catch (err) {
  console.error(`svc-addr: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
