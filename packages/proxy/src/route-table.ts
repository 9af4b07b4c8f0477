import type { ApplicationStatusReport } from "@tsserve/protocol";

/** One HTTP route: a path prefix served by an application's ingress deployment. */
export interface Route {
  /** Normalised route prefix: starts with `/`, no trailing `/` (except the root route `/`). */
  routePrefix: string;
  /** Application name. */
  app: string;
  /** The ingress deployment that HTTP calls go to. */
  ingress: string;
}

/** What a path resolves to: the route, and the method named by the rest of the path (if any). */
export interface RouteMatch {
  route: Route;
  /** `__call__` for the prefix itself; else the single path segment after the prefix. */
  method: string;
  /** True when the path names more than one segment after the prefix (e.g. `/chat/a/b`): no such method. */
  tooDeep: boolean;
}

/** Routes added, removed, and served by another application or ingress, between two tables. */
export interface RouteTableDiff {
  added: Route[];
  removed: Route[];
  changed: { from: Route; to: Route }[];
}

/** The method a bare route prefix calls, as in Ray Serve. */
export const CALL_METHOD = "__call__";

/** Trims trailing slashes and makes sure the prefix starts with one; `""` and `/` both mean the root. */
export function normalizeRoutePrefix(prefix: string): string {
  let p = prefix.trim();
  if (!p.startsWith("/")) p = `/${p}`;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  return p;
}

/**
 * Route prefixes → ingress deployments, matched by longest prefix on segment boundaries: with
 * routes `/` and `/chat`, `/chat/reply` goes to `/chat` and `/chatter` to `/`. Rebuilt as a whole
 * from each status poll and swapped in at once, so a lookup never sees half a table.
 */
export class RouteTable {
  // Longest prefix first: the first hit is the longest match.
  private readonly routes: readonly Route[];

  constructor(routes: readonly Route[] = []) {
    const byPrefix = new Map<string, Route>();
    for (const r of routes) {
      const routePrefix = normalizeRoutePrefix(r.routePrefix);
      // Two applications claiming one prefix is a config mistake the controller should refuse; keep
      // the first so the choice is at least stable between polls.
      if (!byPrefix.has(routePrefix)) byPrefix.set(routePrefix, { ...r, routePrefix });
    }
    this.routes = [...byPrefix.values()].sort((a, b) => b.routePrefix.length - a.routePrefix.length);
  }

  /** Builds the table from a status report's applications; apps with `routePrefix: null` are not exposed. */
  static fromApplications(apps: readonly ApplicationStatusReport[]): RouteTable {
    const routes: Route[] = [];
    for (const a of apps) {
      if (a.routePrefix === null || a.routePrefix === undefined) continue;
      routes.push({ routePrefix: a.routePrefix, app: a.name, ingress: a.ingress });
    }
    return new RouteTable(routes);
  }

  /** Number of routes. */
  get size(): number {
    return this.routes.length;
  }

  /** The routes, sorted by prefix (for `/-/routes` and error messages). */
  list(): Route[] {
    return [...this.routes].sort((a, b) => a.routePrefix.localeCompare(b.routePrefix));
  }

  /** Known prefixes, sorted. */
  prefixes(): string[] {
    return this.list().map((r) => r.routePrefix);
  }

  /** True when both tables hold the same routes (so a poll that changed nothing is cheap to spot). */
  equals(other: RouteTable): boolean {
    if (other.routes.length !== this.routes.length) return false;
    return this.routes.every((r, i) => {
      const o = other.routes[i] as Route;
      return o.routePrefix === r.routePrefix && o.app === r.app && o.ingress === r.ingress;
    });
  }

  /**
   * What changed from `previous` to this table, by route prefix (each list sorted by prefix): for
   * the proxy's "routes changed" log line, built once per change, never per request.
   */
  diff(previous: RouteTable): RouteTableDiff {
    const before = new Map(previous.routes.map((r) => [r.routePrefix, r]));
    const added: Route[] = [];
    const changed: { from: Route; to: Route }[] = [];
    for (const r of this.list()) {
      const o = before.get(r.routePrefix);
      if (o === undefined) added.push(r);
      else if (o.app !== r.app || o.ingress !== r.ingress) changed.push({ from: o, to: r });
      before.delete(r.routePrefix);
    }
    const removed = [...before.values()].sort((a, b) => a.routePrefix.localeCompare(b.routePrefix));
    return { added, removed, changed };
  }

  /**
   * Resolves a URL path (no query string). Returns undefined when no prefix matches. The path is
   * compared as sent (percent-decoding applies only to the method segment).
   */
  match(path: string): RouteMatch | undefined {
    for (const route of this.routes) {
      const p = route.routePrefix;
      let rest: string;
      if (p === "/") rest = path.startsWith("/") ? path.slice(1) : path;
      else if (path === p) rest = "";
      else if (path.startsWith(p) && path.charCodeAt(p.length) === 47 /* "/" */)
        rest = path.slice(p.length + 1);
      else continue;
      while (rest.endsWith("/")) rest = rest.slice(0, -1);
      if (rest === "") return { route, method: CALL_METHOD, tooDeep: false };
      const slash = rest.indexOf("/");
      const segment = slash === -1 ? rest : rest.slice(0, slash);
      return { route, method: safeDecode(segment), tooDeep: slash !== -1 };
    }
    return undefined;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is still a (non-existent) method name; the replica will say so.
    return segment;
  }
}
