import { describe, expect, it } from "vitest";
import { decode, encode, errorToWire } from "@tsserve/protocol/internal";
import { DeploymentNotFoundError, type StatusReport } from "@tsserve/protocol";
import { RoutePoller, type NatsRequester } from "./route-poller.js";

const report = (routePrefix: string): StatusReport => ({
  applications: [{ name: "chat", routePrefix, ingress: "Chat", deployments: [] }],
  nodes: [],
});

/** A requester answering from a queue of canned outcomes (a reply value, or an Error to throw). */
function scripted(outcomes: unknown[]): { request: NatsRequester; subjects: string[] } {
  const subjects: string[] = [];
  const request: NatsRequester = (subject, body) => {
    subjects.push(subject);
    expect(decode(body)).toEqual({});
    const next = outcomes.shift();
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(encode(next));
  };
  return { request, subjects };
}

describe("RoutePoller", () => {
  it("asks <prefix>.ctl.status and builds the table from the reply", async () => {
    const { request, subjects } = scripted([{ ok: true, value: report("/chat") }]);
    let seen = 0;
    const p = new RoutePoller({
      request,
      prefix: "pfx",
      refreshMs: 1000,
      onStatus: (apps) => (seen = apps.length),
    });
    await p.refresh();
    expect(subjects).toEqual(["pfx.ctl.status"]);
    expect(p.table.prefixes()).toEqual(["/chat"]);
    expect(seen).toBe(1);
    expect(p.lastError).toBeUndefined();
  });

  it("keeps the last table when the controller is unreachable, says why, and recovers", async () => {
    const { request } = scripted([
      { ok: true, value: report("/chat") },
      new Error("503 no responders"),
      { ok: false, error: errorToWire(new DeploymentNotFoundError("gone")) },
      "not a reply",
      { ok: true, value: { nodes: [] } },
      { ok: true, value: report("/v2") },
    ]);
    const p = new RoutePoller({ request, prefix: "pfx", refreshMs: 1000 });
    await p.refresh();
    const first = p.table;
    await p.refresh();
    expect(p.table).toBe(first);
    expect(p.lastError?.message).toContain(
      "controller status request on pfx.ctl.status failed: 503 no responders",
    );
    await p.refresh();
    expect(p.lastError?.message).toBe("gone");
    await p.refresh();
    expect(p.lastError?.message).toContain("malformed status reply");
    await p.refresh();
    expect(p.lastError?.message).toContain("applications: expected an array");
    expect(p.table.prefixes()).toEqual(["/chat"]);
    await p.refresh();
    expect(p.table.prefixes()).toEqual(["/v2"]);
    expect(p.lastError).toBeUndefined();
  });

  it("shares one request between concurrent refreshes and polls until stopped", async () => {
    const replies = Array.from({ length: 50 }, () => ({ ok: true, value: report("/chat") }));
    const { request, subjects } = scripted(replies);
    const p = new RoutePoller({ request, prefix: "pfx", refreshMs: 10 });
    await Promise.all([p.refresh(), p.refresh()]);
    expect(subjects).toHaveLength(1);
    await p.start();
    await new Promise((r) => setTimeout(r, 60));
    await p.stop();
    const count = subjects.length;
    expect(count).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 40));
    expect(subjects.length).toBe(count);
  });
});
