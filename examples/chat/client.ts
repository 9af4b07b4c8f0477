/**
 * 02 · chat client — 8 sessions × 5 turns through a DeploymentHandle, then a session → replica table.
 *
 * Run from this folder once the app is deployed: `pnpm exec tsx client.ts`. The cluster address
 * comes from TSSERVE_ADDRESS, else the `.tsserve/address` file `tsserve start` wrote here.
 * Exits with code 1 if any session was served by more than one replica.
 */
import { connect } from "tsserve";
import type { Chat } from "./app.js";

const SESSIONS = 8;
const TURNS = 5;

const client = await connect(); // TSSERVE_ADDRESS, else the .tsserve/address `tsserve start` wrote
try {
  const chat = client.getDeploymentHandle<Chat>("Chat", { app: "chat" });
  // Warm-up: session-less pings spread over the ring and teach the handle every replica's queue
  // length. A cold handle probes first, and on a saturated machine a probe that misses its 100 ms
  // deadline sends that turn to the ring's fallback replica, splitting a session's history.
  await Promise.all(Array.from({ length: 24 }, () => chat.ping.remote()));
  const seen = new Map<string, { replicas: Set<string>; turns: number }>();
  // Sessions run concurrently; the turns of one session run in order, like a person typing.
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      const session = `user_${s + 1}`;
      const row = { replicas: new Set<string>(), turns: 0 };
      seen.set(session, row);
      for (let t = 1; t <= TURNS; t++) {
        const r = await chat.options({ sessionId: session }).reply.remote(`message ${t}`);
        row.replicas.add(r.replica);
        row.turns = r.turns;
      }
    }),
  );

  console.log("session   replica              history  replicas seen");
  let sticky = true;
  for (const [session, row] of [...seen].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))) {
    sticky &&= row.replicas.size === 1;
    console.log(
      `${session.padEnd(9)} ${[...row.replicas].join(",").padEnd(20)} ${String(row.turns).padStart(7)}  ${row.replicas.size}`,
    );
  }
  const used = new Set([...seen.values()].flatMap((r) => [...r.replicas]));
  console.log(
    `${SESSIONS} sessions × ${TURNS} turns over ${used.size} replicas: ${sticky ? "every session stayed on one replica" : "SOME SESSIONS MOVED"}`,
  );
  process.exitCode = sticky ? 0 : 1;
} finally {
  await client.close();
}
