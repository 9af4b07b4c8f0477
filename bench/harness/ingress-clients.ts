import { Agent, request } from "node:http";
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client as GrpcClient,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { PROTO_LOADER_OPTIONS } from "@tsserve/proxy/internal";
import type { Mode } from "./interleaved-runs.js";

/** The ~100-byte JSON value every ingress call carries (and gets back). */
export const PAYLOAD = {
  user: "user_123",
  items: [1, 2, 3, 4, 5],
  text: "hello world, hello tsserve ingress",
  n: 42,
  ok: true,
};

/**
 * A closed-loop HTTP mode: POST the payload over keep-alive connections (one per worker, like 64
 * clients) and check the echoed body's length.
 */
export function httpMode(name: string, url: string, concurrency: number): Mode & { close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const body = Buffer.from(JSON.stringify(PAYLOAD));
  const u = new URL(url);
  const headers = { "content-type": "application/json", "content-length": body.length };
  return {
    name,
    call: () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          { agent, host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers },
          (res) => {
            let n = 0;
            res.on("data", (d: Buffer) => (n += d.length));
            res.on("end", () =>
              res.statusCode === 200 && n === body.length
                ? resolve()
                : reject(new Error(`HTTP ${res.statusCode} with ${n} bytes`)),
            );
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

/** A closed-loop gRPC mode: unary `bench.Echo/Echo` over one grpc-js channel (HTTP/2 multiplexes the workers). */
export function grpcMode(
  name: string,
  target: string,
  proto: string,
  metadata?: Record<string, string>,
): Mode & { close(): void } {
  const pkg = loadPackageDefinition(loadSync(proto, PROTO_LOADER_OPTIONS)) as unknown as {
    bench: { Echo: new (t: string, c: ReturnType<typeof credentials.createInsecure>) => GrpcClient };
  };
  const client = new pkg.bench.Echo(target, credentials.createInsecure()) as GrpcClient & {
    Echo: (req: object, md: Metadata, cb: (e: ServiceError | null, v: { n: number }) => void) => void;
  };
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata ?? {})) md.set(k, v);
  return {
    name,
    call: () =>
      new Promise<void>((resolve, reject) =>
        client.Echo(PAYLOAD, md, (e, v) =>
          e ? reject(e) : v.n === PAYLOAD.n ? resolve() : reject(new Error("bad echo")),
        ),
      ),
    close: () => client.close(),
  };
}
