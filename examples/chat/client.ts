/**
 * 02 · chat client — 16 sessions × N turns (default 3) through a DeploymentHandle, then a table.
 *
 * Run from the examples folder once the app is deployed: `pnpm exec tsx chat/client.ts [turns]`.
 * The cluster address comes from TSSERVE_ADDRESS, else the `.tsserve/address` file `tsserve start`
 * wrote. Each row shows the replica that served the session's turns and its history length after
 * them. Exits with code 1 if a turn did not see the turns before it (a session's history broke).
 */
import { connect } from "tsserve";
import type { Chat } from "./app.js";

const SESSIONS = 16;
const TURNS = Number(process.argv[2] ?? 3);

const client = await connect(); // TSSERVE_ADDRESS, else the .tsserve/address `tsserve start` wrote
try {
  const chat = client.getDeploymentHandle<Chat>("Chat", { app: "chat" });
  const rows = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      const session = `user_${s + 1}`;
      const row = { session, replicas: new Set<string>(), turns: 0, origin: "", unbroken: true };
      // The turns of one session run in order, like a person typing; sessions run concurrently.
      for (let t = 1; t <= TURNS; t++) {
        const r = await chat.options({ sessionId: session }).reply.remote(`message ${t}`);
        if (t === 1) row.origin = r.origin;
        else row.unbroken &&= r.turns === row.turns + 1;
        row.replicas.add(r.replica);
        row.turns = r.turns;
      }
      return row;
    }),
  );

  console.log("session   replica              history  origin");
  for (const row of rows) {
    console.log(
      `${row.session.padEnd(9)} ${[...row.replicas].join(",").padEnd(20)} ${String(row.turns).padStart(7)}  ${row.origin}`,
    );
  }
  const unbroken = rows.every((r) => r.unbroken);
  const used = new Set(rows.flatMap((r) => [...r.replicas]));
  console.log(
    `${SESSIONS} sessions × ${TURNS} turns over ${used.size} replicas: ${unbroken ? "every turn saw its session's history" : "SOME HISTORY BROKE"}`,
  );
  process.exitCode = unbroken ? 0 : 1;
} finally {
  await client.close();
}
