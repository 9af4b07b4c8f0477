/**
 * 06 · gRPC client — plain grpc-js, no tsserve import: any gRPC client works the same way.
 *
 * Usage: `pnpm exec tsx grpc/client.ts localhost:9000`. Metadata `application` names the app,
 * `session_id` keeps a session on one replica.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

interface HelloReply {
  message: string;
  replica: string;
  calls: number;
  session_id: string;
}

const target = process.argv[2] ?? "localhost:9000";
const proto = join(dirname(fileURLToPath(import.meta.url)), "greeter.proto");
// The same options the ingress uses: field names as in the .proto, 64-bit ints and enums as strings.
const pkg = loadPackageDefinition(
  loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }),
) as any;
const greeter = new pkg.greeter.Greeter(target, credentials.createInsecure());

function metadata(session: string): Metadata {
  const md = new Metadata();
  md.set("application", "greeter");
  md.set("session_id", session);
  return md;
}

function sayHello(name: string, session: string): Promise<HelloReply> {
  return new Promise((resolve, reject) =>
    greeter.SayHello(
      { name },
      metadata(session),
      { deadline: Date.now() + 5000 },
      (err: ServiceError | null, reply: HelloReply) => (err ? reject(err) : resolve(reply)),
    ),
  );
}

try {
  for (const [name, session] of [
    ["Ada", "user_1"],
    ["Ada", "user_1"],
    ["Ada", "user_1"],
    ["Bob", "user_2"],
  ] as const) {
    const r = await sayHello(name, session);
    console.log(`SayHello ${session}: ${r.message} replica=${r.replica} calls=${r.calls}`);
  }
  const stream = greeter.CountUp({ n: 3 }, metadata("user_1"));
  for await (const chunk of stream as AsyncIterable<{ i: number; replica: string }>) {
    console.log(`CountUp user_1: i=${chunk.i} replica=${chunk.replica}`);
  }
  try {
    await sayHello("", "user_1");
  } catch (e) {
    const err = e as ServiceError;
    console.log(`SayHello without a name: code=${err.code} details=${JSON.stringify(err.details)}`);
  }
} finally {
  greeter.close();
}
