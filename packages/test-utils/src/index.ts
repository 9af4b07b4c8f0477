export { freePort } from "./free-port.js";
export { waitUntil, sleep } from "./wait-until.js";
export { startNatsServer, natsServerBinary, type NatsServer, type NatsServerOptions } from "./nats-server.js";
export { waitForReplicaState, type WaitForReplicaStateOptions } from "./replica-state.js";
export { allPids, childPids, parentPid, processAlive, processCommand, processEnv } from "./processes.js";
export { errorOf } from "./error-of.js";
export { startNats, type NatsFixture } from "./nats-fixture.js";
export { processFixture, type ProcessFixture } from "./process-fixture.js";
export {
  replicaSpec,
  startReplica,
  startReplicas,
  type ReplicaFixture,
  type ReplicaGroup,
  type ReplicaSpecOptions,
  type StartReplicaOptions,
} from "./replica-fixture.js";
export { STREAM_APP, type FixtureApp } from "./fixture-apps.js";
export type { Streamer } from "./fixtures/stream-app.js";
export { seededRandom } from "./seeded-random.js";
