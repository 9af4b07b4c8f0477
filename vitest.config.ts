import { basename } from "node:path";
import { defineConfig } from "vitest/config";

const roots = [
  ...[
    "protocol",
    "replica",
    "handle",
    "controller",
    "cluster",
    "proxy",
    "tsserve",
    "test-utils",
    "chaos",
  ].map((p) => `packages/${p}`),
  "examples",
  "bench",
];

// One root config; each package is a project so `vitest run --project handle` narrows a run.
// Integration tests spawn real nats-server and replica processes, so files run with modest
// parallelism on these 2-core machines and get generous timeouts.
export default defineConfig({
  test: {
    projects: roots.map((root) => ({
      extends: true,
      test: {
        name: basename(root),
        include: [`${root}/**/*.test.ts`],
        exclude: ["**/node_modules/**", "**/dist/**"],
      },
    })),
    // Fails the run when a process a test started is still alive at the end (scripts/vitest-leak-check.ts).
    globalSetup: ["./scripts/vitest-leak-check.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
