import type { Suite } from "../harness/suite.js";
import { affinityScalingSuite } from "./affinity-scaling.js";
import { backPressureSuite } from "./back-pressure.js";
import { balanceSuite } from "./balance.js";
import { controlSuite } from "./control.js";
import { ingressSuite } from "./ingress.js";
import { llmAffinitySuite } from "./llm-affinity.js";
import { multiplexingSuite } from "./multiplexing.js";
import { overheadSuite } from "./overhead.js";
import { scaleCallersSuite } from "./scale-callers.js";
import { scaleMembershipSuite } from "./scale-membership.js";
import { scaleProxiesSuite } from "./scale-proxies.js";
import { scaleSessionsSuite } from "./scale-sessions.js";
import { sessionStateSuite } from "./session-state.js";
import { stickyUnderLoadSuite } from "./sticky-under-load.js";

/** Every suite, in README order. `--suite` picks from these by name. */
export const SUITES: readonly Suite[] = [
  overheadSuite,
  affinityScalingSuite,
  stickyUnderLoadSuite,
  balanceSuite,
  llmAffinitySuite,
  multiplexingSuite,
  backPressureSuite,
  controlSuite,
  ingressSuite,
  scaleCallersSuite,
  scaleSessionsSuite,
  scaleMembershipSuite,
  scaleProxiesSuite,
  sessionStateSuite,
];
