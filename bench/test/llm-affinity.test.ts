import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { llmAffinitySuite } from "../suites/llm-affinity.js";

const benchDir = fileURLToPath(new URL("..", import.meta.url));

describe("llm-affinity suite, quick mode (4 replica processes, real nats-server)", () => {
  it("serves every call and Scoring hits the KV cache more and answers sooner than PowerOfTwo", async () => {
    const r = await llmAffinitySuite.run({ quick: true, address: null, benchDir, log: () => undefined });
    const row = (router: string) => r.rows.find((x) => x["router"] === router)!;
    for (const x of r.rows) expect(x["errors"]).toBe(0);
    expect(Number(row("Scoring")["hitRate"])).toBeGreaterThan(Number(row("PowerOfTwo")["hitRate"]));
    expect(Number(row("Scoring")["ttftP90Ms"])).toBeLessThan(Number(row("PowerOfTwo")["ttftP90Ms"]));
  }, 90_000);
});
