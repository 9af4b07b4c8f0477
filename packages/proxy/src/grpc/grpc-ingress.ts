import { Server, ServerCredentials, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { ConfigError } from "@tsserve/protocol";
import { rpcHandler, type GrpcCallContext } from "./grpc-calls.js";
import { HealthService } from "./grpc-health.js";
import type { ResolvedGrpcOptions } from "./grpc-options.js";
import { loadProtos, type ServiceInfo } from "./grpc-services.js";

/** A running gRPC ingress. */
export interface GrpcIngress {
  /** The TCP port it listens on (the real one when port 0 was asked). */
  readonly port: number;
  /** The configured services (`package.Service`), health service excluded. */
  readonly services: readonly string[];
  /** Ends Watch streams, lets calls finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

function bind(server: Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

/**
 * Starts the gRPC ingress (grpc-js, plaintext HTTP/2): every RPC of the configured proto files'
 * services calls the ingress deployment of the application named by the `application` metadata,
 * plus the standard `grpc.health.v1.Health` service.
 */
export async function startGrpcIngress(
  o: ResolvedGrpcOptions,
  host: string,
  ctx: GrpcCallContext,
): Promise<GrpcIngress> {
  const services: ServiceInfo[] =
    o.protoFiles.length > 0 ? loadProtos(o.protoFiles, o.includeDirs).services : [];
  const server = new Server({
    // Calls end by our own timeouts; keep idle HTTP/2 connections of well-behaved clients open.
    "grpc.max_receive_message_length": 4 * 1024 * 1024,
  });
  for (const s of services) {
    const impl: UntypedServiceImplementation = {};
    for (const rpc of s.rpcs) impl[rpc.exactName] = rpcHandler(ctx, rpc);
    server.addService(s.definition, impl);
  }
  const health = new HealthService(() => services);
  health.addTo(server);
  const h = o.host ?? host;
  let port: number;
  try {
    port = await bind(server, `${h.includes(":") ? `[${h}]` : h}:${o.port}`);
  } catch (cause) {
    server.forceShutdown();
    const why = (cause as Error).message;
    throw new ConfigError(`gRPC ingress cannot listen on ${h}:${o.port}: ${why}`, { cause });
  }
  let closing: Promise<void> | undefined;
  return {
    port,
    services: services.map((s) => s.name),
    close: (graceMs) =>
      (closing ??= new Promise<void>((resolve) => {
        health.shutdown();
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}
