export * from "./controller/index.js";
export {
  ControllerClient,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONTROLLER_TIMEOUT_MS,
  type ControllerClientOptions,
  type ControllerConnectOptions,
} from "./controller-client.js";
