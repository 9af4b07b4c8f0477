/**
 * The public face of @tsserve/cluster: the machine agent, the local cluster and the embedded nats-server launcher.
 *
 * Named exports only, chosen deliberately: what a user of this package needs. Names that only
 * sibling tsserve packages need live in `./internal.ts` (`@tsserve/cluster/internal`). Both lists
 * are pinned by packages/tsserve/test/package-faces.test.ts, so a change here is a deliberate
 * edit of that test too.
 *
 * @packageDocumentation
 */
export { Agent, type AgentOptions } from "./agent.js";
export { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "./local-cluster.js";
export { startEmbeddedNats, type EmbeddedNats, type EmbeddedNatsOptions } from "./embedded-nats.js";
