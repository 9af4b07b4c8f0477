/**
 * 01 · echo — the smallest deployment (function form).
 *
 * `deployment(options)(Class)` makes a Deployment; `.bind(...constructorArgs)` makes the
 * Application that serve.yaml's `importPath` names. Every call answers with its input and the id
 * of the replica that served it, so you can watch requests spread over the replicas.
 */
import { deployment, getReplicaContext, getRequestContext } from "tsserve";

export class Echo {
  constructor(private readonly greeting: string) {}

  /** What `handle.remote(x)`, `tsserve call echo Echo --data x` and `POST /echo` call. */
  __call__(input: unknown): { replica: string; session: string | null; input: unknown } {
    return { replica: getReplicaContext().replicaId, session: getRequestContext()?.sessionId ?? null, input };
  }

  /** A named method: `tsserve call echo Echo --method greet --data '"Ada"'`. */
  greet(name: string): string {
    return `${this.greeting}, ${name}! (from ${getReplicaContext().replicaId})`;
  }

  /** A streamed method (async generator): `tsserve call echo Echo --method count --data 3 --stream`. */
  async *count(n: number): AsyncGenerator<{ i: number; replica: string }> {
    for (let i = 1; i <= n; i++) {
      await new Promise((r) => setTimeout(r, 10));
      yield { i, replica: getReplicaContext().replicaId };
    }
  }
}

export const app = deployment({ numReplicas: 2 })(Echo).bind("Hello");
