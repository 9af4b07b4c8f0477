/**
 * 06 · gRPC — one deployment served over gRPC (and HTTP, and handles) with session affinity.
 *
 * `SayHello` maps to `sayHello`: it answers with the serving replica's id and how many calls this
 * session has made on that replica. ConsistentHash keeps a session on one replica, so the counter
 * climbs 1, 2, 3… whichever way the calls come in. `CountUp` is a server-streaming RPC: an async
 * generator.
 */
import { deployment, getReplicaContext, getRequestContext, ServeError } from "tsserve";

export class Greeter {
  private readonly calls = new Map<string, number>();

  sayHello(req: { name?: string } | undefined) {
    const name = req?.name ?? "";
    if (name === "") throw new ServeError("name is required", { status: 400 }); // gRPC: INVALID_ARGUMENT
    const session = getRequestContext()?.sessionId ?? "";
    const calls = (this.calls.get(session) ?? 0) + 1;
    this.calls.set(session, calls);
    return { message: `Hello, ${name}!`, replica: getReplicaContext().replicaId, calls, session_id: session };
  }

  async *countUp(req: { n: number }) {
    for (let i = 1; i <= req.n; i++) yield { i, replica: getReplicaContext().replicaId };
  }
}

export const app = deployment({
  numReplicas: 2,
  requestRouter: { class: "ConsistentHash" },
})(Greeter).bind();
