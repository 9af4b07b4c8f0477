import { readHeadRecord } from "../head/state-dir.js";
import type { Target } from "../head/target.js";

/** Route table path of the proxy (`@tsserve/proxy` ROUTES_PATH): `{ "/chat": { app, ingress } }`. */
const ROUTES_PATH = "/-/routes";
/** The proxy refreshes its routes about once a second; a few periods is plenty. */
export const PROXY_ROUTES_TIMEOUT_MS = 5000;

type Routes = Record<string, { app: string; ingress: string }>;

/** The HTTP URL of the local head's proxy when `target` is that head, else undefined. */
export function localProxyUrl(target: Target): string | undefined {
  const head = readHeadRecord(target.stateDir);
  return head !== undefined && head.address === target.address && head.httpUrl !== null
    ? head.httpUrl
    : undefined;
}

async function fetchRoutes(url: string): Promise<Routes | undefined> {
  try {
    const res = await fetch(`${url}${ROUTES_PATH}`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as Routes) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits (bounded, best effort) until the local head's proxy serves routes matching `settled`, so
 * that "deploy returned" also means "curl works" and "delete returned" means "404". The proxy
 * polls the controller on its own period; without this the first HTTP request races it. Returns
 * false when there is no local proxy or it did not settle in time (the caller carries on: the
 * controller state is already right).
 */
export async function waitForProxyRoutes(
  target: Target,
  settled: (routes: Routes) => boolean,
  timeoutMs = PROXY_ROUTES_TIMEOUT_MS,
): Promise<boolean> {
  const url = localProxyUrl(target);
  if (url === undefined) return false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const routes = await fetchRoutes(url);
    if (routes !== undefined && settled(routes)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when every `(routePrefix → app)` pair is served. */
export const servesAll =
  (apps: readonly { name: string; routePrefix: string | null }[]) =>
  (routes: Routes): boolean =>
    apps.every((a) => a.routePrefix === null || routes[a.routePrefix]?.app === a.name);

/** True when no route points at `app` any more. */
export const servesNone =
  (app: string) =>
  (routes: Routes): boolean =>
    Object.values(routes).every((r) => r.app !== app);
