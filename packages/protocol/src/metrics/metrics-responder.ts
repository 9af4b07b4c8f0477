import type { NatsConnection, Subscription } from "nats";
import { encode } from "../codec.js";
import { subject, VERBS } from "../subjects.js";
import { processRegistry } from "./process-registry.js";

/** `metrics`: every component answers a collection request on it (request-many). */
export const metricsSubject = (prefix: string): string => subject(prefix, VERBS.metrics);

/**
 * Answers `metrics` requests with this process's registry as prom-client JSON (msgpack), so the
 * head can merge every component into one scrape (`AggregatorRegistry.aggregate`). `before`
 * refreshes gauges computed on demand (e.g. the controller's replicas by state).
 */
export function serveMetrics(nc: NatsConnection, prefix: string, before?: () => boolean): Subscription {
  return nc.subscribe(metricsSubject(prefix), {
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      // A standby controller (before() false) stays silent rather than report an empty view.
      if (before && !before()) return;
      void processRegistry()
        .getMetricsAsJSON()
        .then(
          (json) => msg.respond(encode(json)),
          () => undefined,
        );
    },
  });
}
