// The loopback service proxy: one 127.0.0.1 listener per Service port asked for, each balancing
// new connections round robin over the Service's ready endpoints as they are at that moment (read
// from the informers' caches on every connection, so an endpoint that turns not ready gets no new
// connection from then on). Listeners are made on demand and kept until the proxy stops.
import type { Server } from "node:net";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { type Backend, findServicePort, NotFound, RoundRobin, readyBackends, slicesOf } from "./backends.ts";
import { addressOf, listen } from "./tcp.ts";

export type ClusterView = {
  /** The Service from the informer's cache. */
  service(namespace: string, name: string): V1Service | undefined;
  /** The Service from the apiserver, for one created a moment ago that the cache lacks. */
  readService(namespace: string, name: string): Promise<V1Service | undefined>;
  slices(namespace: string): readonly V1EndpointSlice[];
};

export type ServiceAddress = { address: string; backends: Backend[] };

export class ServiceProxy {
  private readonly view: ClusterView;
  private readonly host: string;
  private readonly listeners = new Map<string, Promise<{ server: Server; backends: () => Backend[] }>>();

  constructor(view: ClusterView, host = "127.0.0.1") {
    this.view = view;
    this.host = host;
  }

  /** The loopback address of a Service port (by number or name), made on first use. */
  async address(namespace: string, name: string, port: string | number): Promise<ServiceAddress> {
    const service = this.view.service(namespace, name) ?? (await this.view.readService(namespace, name));
    if (!service) throw new NotFound(`service ${namespace}/${name} not found`);
    const servicePort = findServicePort(service, port);
    const key = `${namespace}/${name}/${servicePort.port}`;
    let listener = this.listeners.get(key);
    if (!listener) {
      listener = this.open(service, servicePort.port);
      this.listeners.set(key, listener);
      listener.catch(() => this.listeners.delete(key));
    }
    const { server, backends } = await listener;
    return { address: addressOf(server), backends: backends() };
  }

  private async open(service: V1Service, portNumber: number) {
    const namespace = service.metadata?.namespace ?? "";
    const name = service.metadata?.name ?? "";
    const backends = () => {
      // The Service's port list can change; a port that disappeared has no backends.
      const latest = this.view.service(namespace, name) ?? service;
      const port = (latest.spec?.ports ?? []).find((p) => p.port === portNumber);
      return port ? readyBackends(port, slicesOf(latest, this.view.slices(namespace))) : [];
    };
    const balancer = new RoundRobin();
    const server = await listen(this.host, 0, () => balancer.pick(backends()));
    return { server, backends };
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.listeners.values());
    for (const l of all) if (l.status === "fulfilled") l.value.server.close();
    this.listeners.clear();
  }
}
