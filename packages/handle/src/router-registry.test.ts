import { fileURLToPath } from "node:url";
import { isConfigError } from "@tsserve/protocol";
import { describe, expect, it } from "vitest";
import { ConsistentHashRouter } from "./consistent-hash/consistent-hash-router.js";
import { PowerOfTwoChoicesRouter } from "./power-of-two-router.js";
import { RequestRouter, type RouterContext } from "./request-router.js";
import { createRouter, knownRouterNames, registerRouter, resolveRouterClass } from "./router-registry.js";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
const context: RouterContext = { app: "a", deployment: "d", maxOngoingRequests: 5, inFlight: () => 0 };

async function configErrorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isConfigError(e)).toBe(true);
    return e as Error;
  }
  throw new Error("expected a ConfigError");
}

describe("router registry", () => {
  it("resolves the built-in names", async () => {
    expect(await resolveRouterClass("PowerOfTwoChoices")).toBe(PowerOfTwoChoicesRouter);
    expect(await resolveRouterClass("ConsistentHash")).toBe(ConsistentHashRouter);
  });

  it("rejects an unknown name, showing the value and the known names", async () => {
    const e = await configErrorOf(resolveRouterClass("PowerOfThree"));
    expect(e.message).toContain('"PowerOfThree"');
    expect(e.message).toContain('"PowerOfTwoChoices", "ConsistentHash"');
  });

  it("loads a TypeScript router by module path relative to cwd, with kwargs", async () => {
    const router = await createRouter(
      { class: "./routers/first-router.ts#FirstRouter", kwargs: { prefer: "r2" } },
      context,
      FIXTURES,
    );
    expect(typeof router.chooseReplicas).toBe("function");
    const reps = [
      { replicaId: "r1", nodeId: "n" },
      { replicaId: "r2", nodeId: "n" },
    ];
    const req = { requestId: "x", sessionId: null, method: "m", createdAt: 0 };
    expect(router.chooseReplicas(reps, req)).toEqual([[reps[1]]]);
  });

  it("propagates a router's kwargs error with its message", async () => {
    const e = await configErrorOf(
      createRouter(
        { class: "./routers/first-router.ts#FirstRouter", kwargs: { prefer: 7 } },
        context,
        FIXTURES,
      ),
    );
    expect(e.message).toContain("kwargs.prefer must be a replica id string, got 7");
  });

  it("rejects a missing module, a missing export and an export that is not a router", async () => {
    expect((await configErrorOf(resolveRouterClass("./routers/nope.ts#X", FIXTURES))).message).toContain(
      "nope.ts",
    );
    expect(
      (await configErrorOf(resolveRouterClass("./routers/first-router.ts#Missing", FIXTURES))).message,
    ).toContain('"Missing"');
    expect(
      (await configErrorOf(resolveRouterClass("./routers/first-router.ts#notARouter", FIXTURES))).message,
    ).toContain("not a RequestRouter class");
  });

  it("registers user routers by name", async () => {
    class Mine extends RequestRouter {
      override chooseReplicas() {
        return [];
      }
    }
    registerRouter("Mine", Mine);
    expect(knownRouterNames()).toContain("Mine");
    expect(await resolveRouterClass("Mine")).toBe(Mine);
    expect(() => registerRouter("a#b", Mine)).toThrow(/without "#"/);
  });
});
