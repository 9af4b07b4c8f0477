/**
 * Deployment fixtures that tests of several packages run (in `./fixtures/`, built with this
 * package): one copy instead of one per package. Spread one into a replica fixture's options:
 * `startReplicas({ url, ids, ...STREAM_APP })`.
 */
import { fileURLToPath } from "node:url";
import type { ReplicaSpecOptions } from "./replica-fixture.js";

/** Where a fixture deployment lives and what it is called. */
export type FixtureApp = Required<Pick<ReplicaSpecOptions, "cwd" | "importPath" | "deployment">>;

const here = import.meta.url;
// Built: dist/fixtures/*.js; run from source by vitest: src/fixtures/*.ts.
const ext = here.endsWith(".ts") ? "ts" : "js";
const dir = fileURLToPath(new URL("./fixtures/", here));

/** `Streamer` (fixtures/stream-app.ts): a generator that never awaits, counters, a failing close. */
export const STREAM_APP: FixtureApp = {
  cwd: dir,
  importPath: `stream-app.${ext}#app`,
  deployment: "Streamer",
};
