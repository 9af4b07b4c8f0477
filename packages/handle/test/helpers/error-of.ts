// The handle's tests import it from here; it lives in test-utils so every package's tests share it.
export { errorOf } from "@tsserve/test-utils";
