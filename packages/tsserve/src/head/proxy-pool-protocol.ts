/** Environment variable carrying a proxy worker's options (JSON) from the head. */
export const PROXY_WORKER_ENV = "TSSERVE_PROXY_WORKER_OPTIONS";

/** What a proxy worker starts: the serialisable part of the proxy's options. */
export interface ProxyWorkerOptions {
  address: string;
  prefix: string;
  host: string;
  port: number;
  grpc?: { port: number; protoFiles: string[] };
}

/** Head → worker. */
export type PoolPrimaryMessage = { type: "metrics"; id: number } | { type: "stop" };

/** Worker → head. */
export type PoolWorkerMessage =
  | { type: "ready"; url: string; port: number; grpcPort: number | null }
  | { type: "failed"; message: string; code?: string }
  | { type: "metrics"; id: number; metrics: object[] };
