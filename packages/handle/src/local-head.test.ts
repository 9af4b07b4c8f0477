import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findClusterAddress, findStateDir, projectRoot, stateDirForHead } from "./local-head.js";

const base = mkdtempSync(join(tmpdir(), "tsserve-find-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const at = (...p: string[]) => join(base, ...p);
mkdirSync(at("app/src/deep"), { recursive: true });
writeFileSync(at("app/package.json"), "{}");

describe("state directory lookup", () => {
  it("puts a head's .tsserve/ at the project root: the nearest folder with package.json or serve.yaml", () => {
    expect(projectRoot(at("app/src/deep"))).toBe(at("app"));
    expect(stateDirForHead(undefined, at("app/src/deep"), {})).toBe(at("app/.tsserve"));
    writeFileSync(at("app/src/serve.yaml"), "");
    expect(stateDirForHead(undefined, at("app/src/deep"), {})).toBe(at("app/src/.tsserve"));
    rmSync(at("app/src/serve.yaml"));
  });

  it("finds the nearest .tsserve/ with an address upwards, like git finds .git/", () => {
    expect(findStateDir(undefined, at("app/src/deep"), {})).toBe(at("app/.tsserve")); // none yet
    mkdirSync(at("app/.tsserve"));
    writeFileSync(at("app/.tsserve/address"), "nats://127.0.0.1:4222\n");
    // A leftover .tsserve/ without an address (a stopped head's log) does not hide a live one.
    mkdirSync(at("app/src/.tsserve"));
    expect(findStateDir(undefined, at("app/src/deep"), {})).toBe(at("app/.tsserve"));
    // ...and once it exists, a head started below reuses the nearer one.
    expect(stateDirForHead(undefined, at("app/src/deep"), {})).toBe(at("app/src/.tsserve"));
  });

  it("prefers --state-dir, then TSSERVE_STATE_DIR, relative to the cwd", () => {
    const env = { TSSERVE_STATE_DIR: "elsewhere" };
    expect(findStateDir(undefined, at("app/src"), env)).toBe(at("app/src/elsewhere"));
    expect(stateDirForHead(undefined, at("app/src"), env)).toBe(at("app/src/elsewhere"));
    expect(findStateDir("flag", at("app/src"), env)).toBe(at("app/src/flag"));
  });

  it("finds the cluster address as the CLI does: given, TSSERVE_ADDRESS, the nearest head's address file", () => {
    const given = { address: "nats://h:1", source: "options.address" };
    expect(findClusterAddress(given, at("app/src/deep"), {})).toEqual(given);
    expect(
      findClusterAddress({ source: "x" }, at("app/src/deep"), { TSSERVE_ADDRESS: "nats://e:2" }),
    ).toEqual({
      address: "nats://e:2",
      source: "TSSERVE_ADDRESS",
    });
    writeFileSync(at("app/.tsserve/head-process.json"), JSON.stringify({ prefix: "p1" }));
    expect(findClusterAddress({ source: "x" }, at("app/src/deep"), {})).toEqual({
      address: "nats://127.0.0.1:4222",
      source: at("app/.tsserve/address"),
      headPrefix: "p1",
    });
    expect(findClusterAddress({ source: "x" }, base, {})).toBeUndefined();
  });
});
