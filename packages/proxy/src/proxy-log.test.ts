import { status as Status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  BackPressureError,
  PayloadTooLargeError,
  ReplicaDiedError,
  RequestCancelledError,
  UnavailableError,
} from "@tsserve/protocol";
import { createLogger } from "@tsserve/protocol/internal";
import { ACCESS_LOG_ENV } from "@tsserve/protocol/internal";
import { MAX_LOGGED_CHARS, ProxyLog } from "./proxy-log.js";
import { RouteTable } from "./route-table.js";

type Line = Record<string, unknown> & { level: number; msg: string };

function setup(env: NodeJS.ProcessEnv = {}) {
  const lines: Line[] = [];
  let t = 1_000;
  const logger = createLogger(
    "proxy",
    {},
    { level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) },
  );
  const log = new ProxyLog(logger, { env, now: () => t });
  return { log, lines, advance: (ms: number) => (t += ms) };
}

const table = new RouteTable([{ routePrefix: "/a", app: "a", ingress: "A" }]);

describe("ProxyLog", () => {
  it("reads the access-log switch once from the environment", () => {
    expect(setup({ [ACCESS_LOG_ENV]: "1" }).log.accessLog).toBe(true);
    expect(setup({ [ACCESS_LOG_ENV]: "0" }).log.accessLog).toBe(false);
    expect(setup({}).log.accessLog).toBe(false);
  });

  it("warns once when the controller becomes unreachable and says for how long when it is back", () => {
    const { log, lines, advance } = setup();
    const error = new UnavailableError("no responders");
    log.routesUnreadable(error, table);
    advance(1000);
    log.routesUnreadable(error, table);
    advance(1500);
    log.routesRead(table, table);
    log.routesRead(table, table);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, "controller status unreadable; the last route table stays in use"],
      [30, "controller status readable again"],
    ]);
    expect(lines[0]).toMatchObject({ error: "UnavailableError: no responders", routes: 1 });
    expect(lines[1]).toMatchObject({ unreachableMs: 2500, routes: 1 });
  });

  it("logs a 502 from a dead replica with the request id the error carries", () => {
    const { log, lines } = setup();
    const died = new ReplicaDiedError("replica r1 was lost", {
      data: { replicaId: "r1", requestId: "req-9" },
    });
    log.httpFailed("POST", "/a/run", "/a", 502, "s1", died);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "http request failed",
        status: 502,
        code: "REPLICA_DIED",
        error: "ReplicaDiedError: replica r1 was lost",
        requestId: "req-9",
        sessionId: "s1",
      }),
    ]);
  });

  it("warns about a 5xx the user's code returned (no error) and not about a 499", () => {
    const { log, lines } = setup();
    log.httpFailed("GET", "/a", "/a", 503, null, undefined);
    log.httpFailed("POST", "/a", "/a", 499, null, new RequestCancelledError());
    expect(lines.map((l) => [l.level, l["status"], "error" in l])).toEqual([
      [40, 503, false],
      [20, 499, true],
    ]);
  });

  it("counts RESOURCE_EXHAUSTED as the server's (back-pressure) unless the request was too large", () => {
    const { log, lines } = setup();
    log.grpcFailed("/p.S/M", Status.RESOURCE_EXHAUSTED, new BackPressureError(5, 5), null);
    log.grpcFailed("/p.S/M", Status.RESOURCE_EXHAUSTED, new PayloadTooLargeError("too big"), null);
    log.grpcFailed("/p.S/M", Status.CANCELLED, new RequestCancelledError(), null);
    expect(lines.map((l) => [l.level, l.msg, l["grpcCode"]])).toEqual([
      [40, "grpc call failed", "RESOURCE_EXHAUSTED"],
      [20, "grpc call refused", "RESOURCE_EXHAUSTED"],
      [20, "grpc call refused", "CANCELLED"],
    ]);
  });

  it("clips messages, paths and session ids a client or user code made huge", () => {
    const { log, lines } = setup();
    const huge = "x".repeat(5000);
    log.httpFailed("POST", `/a/${huge}`, "/a", 500, huge, new Error(huge));
    const line = lines[0] as Line;
    for (const key of ["path", "sessionId", "error"]) {
      expect((line[key] as string).length).toBe(MAX_LOGGED_CHARS + 1);
      expect(line[key] as string).toMatch(/…$/);
    }
  });
});
