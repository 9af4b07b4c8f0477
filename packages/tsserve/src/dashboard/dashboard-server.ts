import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "nats";
import type { Registry } from "prom-client";
import { collectMetrics, renderExposition } from "./metrics-collector.js";
import { DashboardState, type DashboardSnapshot } from "./dashboard-state.js";

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** A connection the dashboard borrows (not closed by it). */
  nc: NatsConnection;
  prefix: string;
  /** 0 = any free port. @default 8265 (Ray's dashboard port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Registries of this process to add to `/metrics` (the head's proxy). @default [] */
  local?: readonly Registry[];
  /** How often the live view samples the cluster. @default 1000 */
  periodMs?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/** The static front end (plain HTML, JS and CSS, no build step). */
const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../static/dashboard");
const STATIC: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

function json(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * The head's dashboard and cluster-wide scrape endpoint (docs/dashboard.md):
 * `GET /` the page; `GET /metrics` every component's metrics in one exposition (collected over
 * NATS); `GET /api/snapshot` applications, deployments, replicas, request rate and latency, rings,
 * recent errors; `GET /api/events` the same as Server-Sent Events, one `snapshot` per period.
 */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const local = o.local ?? [];
  const state = new DashboardState(o.nc, o.prefix, local, o.periodMs ?? 1000);
  const streams = new Set<ServerResponse>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET") return json(res, { error: "only GET" }, 405);
    const file = STATIC[path];
    if (file !== undefined) {
      res.writeHead(200, { "content-type": TYPES[file.split(".").pop()!]!, "cache-control": "no-cache" });
      res.end(readFileSync(join(STATIC_DIR, file)));
      return;
    }
    switch (path) {
      case "/metrics": {
        const text = await renderExposition(await collectMetrics(o.nc, o.prefix, local));
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(text);
        return;
      }
      case "/api/snapshot":
        return json(res, await state.snapshot());
      case "/api/events": {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          connection: "keep-alive",
        });
        const send = (s: DashboardSnapshot): void =>
          void res.write(`event: snapshot\ndata: ${JSON.stringify(s)}\n\n`);
        const off = state.subscribe(send);
        send(await state.snapshot());
        streams.add(res);
        req.on("close", () => {
          off();
          streams.delete(res);
        });
        return;
      }
      default:
        return json(res, { error: `no such path ${path}` }, 404);
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, { error: (e as Error).message }, 500);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 8265, o.host ?? "127.0.0.1", () => resolve());
  });
  state.start();
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${port}`,
    close: async () => {
      state.close();
      for (const r of streams) r.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
