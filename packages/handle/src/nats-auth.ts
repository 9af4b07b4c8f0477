// Moved to @tsserve/protocol (every tsserve process connects with it, not only handles); these
// re-exports keep `@tsserve/handle`'s public surface and its own imports unchanged.
export {
  NATS_AUTH_ENV,
  NATS_AUTH_FLAGS,
  applyNatsAuthFlags,
  natsAuthFromEnv,
  type NatsAuthOptions,
} from "@tsserve/protocol";
