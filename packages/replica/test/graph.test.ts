import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isConfigError } from "@tsserve/protocol";
import { isApplication } from "@tsserve/replica";
import { loadApplicationGraph } from "@tsserve/replica/internal";
import { FIXTURES } from "./helpers.js";

const rejection = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: Error) => e,
  );

describe("loadApplicationGraph", () => {
  it("imports a TypeScript module with tsx and walks the bound graph", async () => {
    const graph = await loadApplicationGraph("graph-app.ts", FIXTURES);
    expect(graph.ingress).toBe("Router");
    expect([...graph.deployments.keys()].sort()).toEqual(["Model", "Other", "Router", "TheCache"]);
    expect(graph.deployments.get("Model")?.config.numReplicas).toBe(2);
    expect(graph.deployments.get("Router")?.config.maxOngoingRequests).toBe(9);
    const routerArgs = graph.deployments.get("Router")?.args ?? [];
    expect(isApplication(routerArgs[0])).toBe(true);
    expect(graph.deployments.get("Model")?.args).toEqual([7]);
  });

  it("loads the decorator form by export name, from an absolute path, in plain Node", async () => {
    // A child process: vitest's own transform does not lower decorators, tsx (used by the CLI and
    // by replicas) does.
    const script = [
      'import { loadApplicationGraph } from "@tsserve/replica/internal";',
      `const g = await loadApplicationGraph(${JSON.stringify(`${FIXTURES}/decorated-app.ts#greeterApp`)}, "/");`,
      "const d = g.deployments.get(g.ingress);",
      "console.log(JSON.stringify({ ingress: g.ingress, waitMs: d.config.gracefulShutdownWaitLoopMs, args: d.args }));",
    ].join("\n");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: FIXTURES,
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ ingress: "Greeter", waitMs: 200, args: ["Bonjour"] });
  });

  it("names the resolved path when the file is missing", async () => {
    const e = await rejection(loadApplicationGraph("nope/missing.ts#app", FIXTURES));
    expect(isConfigError(e)).toBe(true);
    expect(e.message).toContain(`file ${FIXTURES}/nope/missing.ts not found`);
  });

  it("lists the module's exports when the export is missing", async () => {
    const e = await rejection(loadApplicationGraph("graph-app.ts#nothing", FIXTURES));
    expect(isConfigError(e)).toBe(true);
    expect(e.message).toMatch(/has no export "nothing"; its exports are: .*app/);
  });

  it("says what was found when the export is not an Application", async () => {
    const num = await rejection(loadApplicationGraph("graph-app.ts#notAnApp", FIXTURES));
    expect(num.message).toContain('export "notAnApp" is not a bound Application, got 42');
    const dep = await rejection(loadApplicationGraph("graph-app.ts#unbound", FIXTURES));
    expect(dep.message).toContain('got Deployment "Model" (call .bind(...) to make an Application)');
    const cls = await rejection(loadApplicationGraph("graph-app.ts#Model", FIXTURES));
    expect(cls.message).toContain("got class or function Model");
  });

  it("rejects two different deployments under one name, and one deployment bound twice", async () => {
    const dup = await rejection(loadApplicationGraph("graph-app.ts#duplicate", FIXTURES));
    expect(isConfigError(dup)).toBe(true);
    expect(dup.message).toContain('two different deployments are named "Dup"');
    const twice = await rejection(loadApplicationGraph("graph-app.ts#boundTwice", FIXTURES));
    expect(twice.message).toContain('deployment "Model" is bound twice with different arguments');
  });

  it("rejects a malformed import path", async () => {
    const e = await rejection(loadApplicationGraph("file.ts#", FIXTURES));
    expect(e.message).toContain('expected "path/to/file.ts#exportName"');
  });
});
