/**
 * The files `tsserve init` writes: the smallest app that runs, type-checks and shows the moving
 * parts (a deployment class, its serve.yaml, an ESM package.json, a tsconfig for NodeNext).
 */

/** app.ts: one deployment with per-replica state. */
export const APP_TS = `import { deployment, getReplicaContext } from "tsserve";

/**
 * A deployment: tsserve runs numReplicas processes of this class and routes each call to one of
 * them. State (here a counter) lives in each replica.
 */
export class Hello {
  private calls = 0;

  /** The default method: \`tsserve call hello Hello --data '"Ada"'\`, or POST /hello over HTTP. */
  __call__(name: string) {
    this.calls += 1;
    return { greeting: \`Hello, \${name}!\`, calls: this.calls, replica: getReplicaContext().replicaId };
  }
}

export const app = deployment({ numReplicas: 2, maxOngoingRequests: 5 })(Hello).bind();
`;

/** serve.yaml, with the comment that gives editors completion and checks from the shipped schema. */
export const SERVE_YAML = `# yaml-language-server: $schema=./node_modules/tsserve/serve.schema.json
# tsserve deploy serve.yaml: fields here override the code's deployment() options by name.
applications:
  - name: hello
    routePrefix: /hello
    importPath: ./app.ts#app
    deployments:
      - name: Hello
        numReplicas: 2
`;

/** tsconfig.json: NodeNext, strict, type-check only (tsx runs the .ts files). */
export const TSCONFIG_JSON = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    include: ["**/*.ts"],
    exclude: ["node_modules"],
  },
  null,
  2,
)}\n`;

/** .gitignore: dependencies and the local head's state directory. */
export const GITIGNORE = "node_modules/\n.tsserve/\n";

/** The scripts `init` adds to package.json (kept when the user already has one of that name). */
export const SCRIPTS: Record<string, string> = {
  start: "tsserve start",
  deploy: "tsserve deploy serve.yaml",
  status: "tsserve status",
  shutdown: "tsserve shutdown",
  typecheck: "tsc",
};

/** The TypeScript the `typecheck` script runs (a devDependency of every scaffolded app). */
export const TYPESCRIPT_RANGE = "~5.9.3";

/** package.json for a new folder; `"type": "module"` is what keeps tsx from loading app.ts as CommonJS. */
export function packageJson(name: string, tsserveVersion: string): Record<string, unknown> {
  return {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: SCRIPTS,
    dependencies: { tsserve: `^${tsserveVersion}` },
    devDependencies: { typescript: TYPESCRIPT_RANGE },
  };
}
