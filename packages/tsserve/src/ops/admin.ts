import { waitForPidExit } from "@tsserve/cluster/internal";
import type { StatusReport } from "@tsserve/protocol";
import { readHeadRecord } from "../head/state-dir.js";
import { connectController, type Target } from "../head/target.js";
import { assertDeployed } from "./call.js";
import { servesNone, waitForProxyRoutes } from "./proxy-routes.js";

/** The controller's view of the cluster. */
export async function clusterStatus(target: Target): Promise<StatusReport> {
  const ctl = await connectController(target);
  try {
    return await ctl.status();
  } finally {
    await ctl.close();
  }
}

/**
 * Drains and removes one application; an unknown name lists the deployed ones. Returns once the
 * local proxy (if any) stopped routing to it.
 */
export async function deleteApplication(target: Target, app: string): Promise<void> {
  const ctl = await connectController(target);
  try {
    assertDeployed(await ctl.status(), app);
    await ctl.delete(app);
  } finally {
    await ctl.close();
  }
  await waitForProxyRoutes(target, servesNone(app));
}

/** What {@link shutdownCluster} did. */
export interface ShutdownResult {
  /** The pid of the local head that exited, when the address was that head's. */
  headPid: number | null;
  /** Whether that head exited within the timeout. */
  headExited: boolean;
}

/**
 * Asks the controller to drain every application, stop its agents and exit. When the address is
 * the one a local head (in the state dir) recorded, also waits for that head process to finish
 * stopping the proxy and the embedded nats-server, so that "shutdown returned" means "all gone".
 */
export async function shutdownCluster(target: Target, timeoutMs = 60_000): Promise<ShutdownResult> {
  // The controller drains replicas before it answers; give it the whole budget.
  const ctl = await connectController(target, timeoutMs);
  try {
    await ctl.shutdown();
  } finally {
    await ctl.close();
  }
  const head = readHeadRecord(target.stateDir);
  if (head === undefined || head.address !== target.address) return { headPid: null, headExited: false };
  const exited = await waitForPidExit(head.pid, timeoutMs);
  return { headPid: head.pid, headExited: exited };
}
