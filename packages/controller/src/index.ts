/**
 * The public face of @tsserve/controller: the Controller (control plane) and its client.
 *
 * Named exports only, chosen deliberately: what a user of this package needs. Names that only
 * sibling tsserve packages need live in `./internal.ts` (`@tsserve/controller/internal`). Both lists
 * are pinned by packages/tsserve/test/package-faces.test.ts, so a change here is a deliberate
 * edit of that test too.
 *
 * @packageDocumentation
 */
export { Controller } from "./controller/controller.js";
export type { ControllerOptions } from "./controller/controller-options.js";
export {
  ControllerClient,
  type ControllerClientOptions,
  type ControllerConnectOptions,
} from "./controller-client.js";
