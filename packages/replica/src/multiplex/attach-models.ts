import type { ReplicaSpec } from "@tsserve/protocol/internal";
import { intAtLeast } from "@tsserve/protocol/internal";
import type { Heartbeats } from "../heartbeat.js";
import type { RequestServer } from "../request-server.js";
import { ModelCache } from "./model-cache.js";
import { setModelCache } from "./multiplexed-context.js";

/**
 * Makes a replica of a multiplexed deployment hold models: calls with a model id load it first
 * (request server), heartbeats carry the loaded ids, and a change is reported at once rather than
 * on the next beat, so handles learn where a model is within one message.
 */
export function attachModels(
  server: RequestServer,
  hb: Heartbeats,
  spec: ReplicaSpec,
  log: (line: string) => void,
): void {
  const max = intAtLeast(
    "config.multiplexed.maxModelsPerReplica",
    spec.config.multiplexed?.maxModelsPerReplica,
    1,
  );
  const cache = new ModelCache(server.instance, max, spec.deployment, log);
  cache.onChange = () => hb.beat();
  hb.models = () => cache.reported();
  server.models = cache;
  setModelCache(cache);
}
