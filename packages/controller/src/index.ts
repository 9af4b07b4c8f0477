export * from "./controller/index.js";
export * from "./cluster/index.js";
