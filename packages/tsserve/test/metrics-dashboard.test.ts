import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { freePort, waitUntil } from "@tsserve/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, alive, cli, headPids, stopPids } from "./cli-harness.js";

const FIX = join(ROOT, "packages/tsserve/test/fixtures");
/** Screenshots and scrapes land here (gitignored). */
const OUT = join(ROOT, "packages/tsserve/test-output");
const stateDir = mkdtempSync(join(tmpdir(), "tsserve-obs-"));
const S = ["--state-dir", stateDir];
let httpUrl = "";
let dashboardUrl = "";
let pids: number[] = [];

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  const port = await freePort();
  const start = await cli([
    "start",
    ...S,
    "--http-port",
    String(port),
    "--nats-port",
    "0",
    "--dashboard-port",
    "0",
  ]);
  expect(start.code, start.stderr).toBe(0);
  expect(start.stdout).toMatch(/dashboard {5}http:\/\/127\.0\.0\.1:\d+ \(cluster metrics: /);
  pids = headPids(stateDir);
  const rec = JSON.parse(readFileSync(join(stateDir, "head-process.json"), "utf8")) as {
    httpUrl: string;
    dashboardUrl: string;
  };
  httpUrl = rec.httpUrl;
  dashboardUrl = rec.dashboardUrl;
  for (const file of ["front.yaml", "logs.yaml"]) {
    const dep = await cli(["deploy", join(FIX, file), ...S]);
    expect(dep.code, dep.stdout + dep.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await cli(["shutdown", ...S], { timeoutMs: 60_000 });
  await stopPids(pids.filter(alive));
  rmSync(stateDir, { recursive: true, force: true });
}, 90_000);

async function post(route: string, body: unknown, session?: string): Promise<unknown> {
  const res = await fetch(`${httpUrl}${route}`, {
    method: "POST",
    headers: session ? { "x-session-id": session } : {},
    body: JSON.stringify(body),
  });
  return res.json();
}

describe("metrics from every component, one scrape", { timeout: 120_000 }, () => {
  it("the head's /metrics has replica, handle, controller, proxy and user series and passes promtool", async () => {
    for (let i = 0; i < 12; i++) await post("/front", `m${i}`, `user-${i % 4}`);
    for (let i = 0; i < 4; i++) await post("/talk", `t${i}`);
    const text = await waitUntil(
      async () => {
        const t = await (await fetch(`${dashboardUrl}/metrics`)).text();
        return /talker_calls_total\{[^}]*kind="ok"/.test(t) && /tsserve_handle_owner_share\{/.test(t)
          ? t
          : undefined;
      },
      { timeoutMs: 20_000, message: "a scrape with every component" },
    );
    const file = join(OUT, "metrics.txt");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, text);
    // promtool exits non-zero on a format error or a lint problem (names, units, suffixes).
    const check = execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(check).toBe("");
    const series = (name: string, ...labels: string[]): RegExp =>
      new RegExp(`^${name}\\{${labels.map((l) => `(?=[^}]*${l})`).join("")}[^}]*\\} [0-9.e+-]+$`, "m");
    // Replicas: processing latency, requests, ongoing (component="replica").
    expect(text).toMatch(
      series(
        "tsserve_replica_processing_latency_seconds_bucket",
        'app="front"',
        'deployment="Talker"',
        'component="replica"',
      ),
    );
    expect(text).toMatch(series("tsserve_replica_requests_total", 'deployment="Front"'));
    expect(text).toMatch(series("tsserve_replica_ongoing_requests", 'app="talk"'));
    // Handles inside the Front replica: routing by rank, the owner share (ConsistentHash).
    expect(text).toMatch(
      series("tsserve_router_fallback_rank_total", 'deployment="Talker"', 'rank="0"', 'component="replica"'),
    );
    expect(text).toMatch(series("tsserve_handle_owner_share", 'deployment="Talker"'));
    // Controller: replicas by state, deployment and application states, queued requests.
    expect(text).toMatch(
      /^tsserve_deployment_replicas\{(?=[^}]*deployment="Talker")(?=[^}]*app="talk")(?=[^}]*state="RUNNING")[^}]*\} 2$/m,
    );
    expect(text).toMatch(
      series("tsserve_application_status", 'app="front"', 'status="RUNNING"', 'component="controller"'),
    );
    expect(text).toMatch(series("tsserve_deployment_queued_requests", 'app="front"'));
    // The head's proxy and the user's own metrics (tagged with the replica automatically).
    expect(text).toMatch(series("tsserve_http_requests_total", 'route="/front"'));
    expect(text).toMatch(series("talker_calls_total", 'kind="ok"', 'app="talk"', 'replica="Talker-'));
    expect(text).toMatch(series("talker_input_length_bucket", 'le="10"'));
  });
});

describe("dashboard in a real headless Chromium", { timeout: 120_000 }, () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  const launch = () =>
    chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });

  it("loads, lists a deployment, and updates live when a replica is added", async () => {
    browser ??= await launch();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(dashboardUrl);
    await page.waitForSelector('tr[data-deployment="talk/Talker"] td.replica-count:text("2/2")', {
      timeout: 20_000,
    });
    expect(await page.textContent('div.app[data-app="talk"]')).toMatch(/talk\s+RUNNING/);
    const talkerRows = (): Promise<number> =>
      page.$$eval(
        "#replicas tbody tr",
        (rows) =>
          rows.filter(
            (r) => r.children[1]?.textContent === "talk/Talker" && r.children[2]?.textContent === "RUNNING",
          ).length,
      );
    expect(await talkerRows()).toBe(2);
    const updatedBefore = await page.getAttribute("body", "data-updated");
    // Scale up from the CLI; the page must follow over its SSE stream, without a reload.
    const dep = await cli(["deploy", join(FIX, "logs-3.yaml"), ...S]);
    expect(dep.code, dep.stdout + dep.stderr).toBe(0);
    await page.waitForSelector('tr[data-deployment="talk/Talker"] td.replica-count:text("3/3")', {
      timeout: 20_000,
    });
    await waitUntil(async () => (await talkerRows()) === 3, {
      timeoutMs: 10_000,
      message: "3 RUNNING Talker rows",
    });
    expect(await page.getAttribute("body", "data-updated")).not.toBe(updatedBefore);
    // Sessions of the stateful Front (4 session ids posted by the metrics test), per deployment
    // and per replica, with no hand-off in progress; Talker has no sessionState: "–".
    await page.waitForSelector('tr[data-deployment="front/Front"] td.sessions:text("4")', {
      timeout: 20_000,
    });
    const frontReplica = await page.$$eval("#replicas tbody tr", (rows) =>
      rows
        .filter((r) => r.children[1]?.textContent === "front/Front")
        .map((r) => [
          r.querySelector("td.sessions")?.textContent,
          r.querySelector("td.handoffs")?.textContent,
        ]),
    );
    expect(frontReplica).toEqual([["4", "0"]]);
    expect(await page.textContent('tr[data-deployment="talk/Talker"] td.sessions')).toBe("–");
    // `tsserve status` shows the same: SESSIONS per deployment, SESSIONS and HANDOFFS per replica.
    const status = await cli(["status", ...S]);
    expect(status.stdout).toMatch(/front\s+\/front\s+Front \(ingress\)\s+HEALTHY\s+1\/1\s+4\b/);
    expect(status.stdout).toMatch(/^Front-\w+\s.*\s4\s+0$/m);
    expect(status.stdout).toMatch(/^Talker-\w+\s.*\s-\s+-$/m);
    // The ring of the ConsistentHash deployment and the request-rate columns are drawn.
    expect(await page.$$eval(".ring", (r) => r.length)).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(OUT, "dashboard.png"), fullPage: true });
  });

  it("shows each multiplexed replica's loaded models, and – for deployments that are not multiplexed", async () => {
    const dep = await cli(["deploy", join(FIX, "models.yaml"), ...S]);
    expect(dep.code, dep.stdout + dep.stderr).toBe(0);
    const call = async (model: string): Promise<string> => {
      const res = await fetch(`${httpUrl}/models`, {
        method: "POST",
        headers: { serve_multiplexed_model_id: model },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { replica: string }).replica;
    };
    // Two models on two replicas of 2 slots: the second goes where both slots are free.
    await waitUntil(async () => (await fetch(`${httpUrl}/models`, { method: "POST" })).status === 200, {
      timeoutMs: 60_000,
      message: "the models app serving",
    });
    const a = await call("lora-a");
    const b = await call("lora-b");
    expect(b).not.toBe(a);
    browser ??= await launch();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(dashboardUrl);
    // Replicas report their models in heartbeats; the controller's status carries them to the page.
    await page.waitForSelector(`tr[data-replica="${a}"] td.models:text-is("lora-a")`, { timeout: 20_000 });
    await page.waitForSelector(`tr[data-replica="${b}"] td.models:text-is("lora-b")`, { timeout: 20_000 });
    const talker = await page.$$eval("#replicas tbody tr", (rows) =>
      rows
        .filter((r) => r.children[1]?.textContent === "talk/Talker")
        .map((r) => r.querySelector("td.models")?.textContent),
    );
    expect(talker.length).toBeGreaterThan(0);
    for (const m of talker) expect(m).toBe("–");
    await page.screenshot({ path: join(OUT, "dashboard-models.png"), fullPage: true });
    await page.close();
  });
});
