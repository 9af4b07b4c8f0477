import { describe, expect, it } from "vitest";
import { normalizeRoutePrefix, RouteTable } from "./route-table.js";

const table = new RouteTable([
  { routePrefix: "/", app: "root", ingress: "Root" },
  { routePrefix: "/chat/", app: "chat", ingress: "Chat" },
  { routePrefix: "/chat/admin", app: "admin", ingress: "Admin" },
]);

describe("RouteTable", () => {
  it("normalises prefixes: leading slash added, trailing slashes trimmed, root kept", () => {
    expect(normalizeRoutePrefix("chat/")).toBe("/chat");
    expect(normalizeRoutePrefix("/")).toBe("/");
    expect(normalizeRoutePrefix("")).toBe("/");
    expect(table.prefixes()).toEqual(["/", "/chat", "/chat/admin"]);
  });

  it("routes the bare prefix to __call__ and one more segment to that method", () => {
    expect(table.match("/chat")).toMatchObject({
      route: { app: "chat" },
      method: "__call__",
      tooDeep: false,
    });
    expect(table.match("/chat/")).toMatchObject({ route: { app: "chat" }, method: "__call__" });
    expect(table.match("/chat/reply")).toMatchObject({
      route: { app: "chat", ingress: "Chat" },
      method: "reply",
    });
  });

  it("prefers the longest prefix and matches only on segment boundaries", () => {
    expect(table.match("/chat/admin/ban")).toMatchObject({ route: { app: "admin" }, method: "ban" });
    expect(table.match("/chatter")).toMatchObject({ route: { app: "root" }, method: "chatter" });
    expect(table.match("/")).toMatchObject({ route: { app: "root" }, method: "__call__" });
  });

  it("flags paths deeper than one method segment", () => {
    expect(table.match("/chat/reply/extra")).toMatchObject({ method: "reply", tooDeep: true });
  });

  it("percent-decodes the method segment and tolerates malformed escapes", () => {
    expect(table.match("/chat/say%20hi")?.method).toBe("say hi");
    expect(table.match("/chat/%E0%A4%A")?.method).toBe("%E0%A4%A");
  });

  it("returns undefined when nothing matches", () => {
    const t = new RouteTable([{ routePrefix: "/chat", app: "chat", ingress: "Chat" }]);
    expect(t.match("/other")).toBeUndefined();
    expect(t.match("/cha")).toBeUndefined();
  });

  it("builds from status applications, skipping apps without a route prefix", () => {
    const t = RouteTable.fromApplications([
      { name: "a", routePrefix: "/a", ingress: "A", deployments: [] },
      { name: "b", routePrefix: null, ingress: "B", deployments: [] },
    ]);
    expect(t.list()).toEqual([{ routePrefix: "/a", app: "a", ingress: "A" }]);
    expect(t.equals(new RouteTable([{ routePrefix: "/a/", app: "a", ingress: "A" }]))).toBe(true);
    expect(t.equals(new RouteTable([{ routePrefix: "/a", app: "a", ingress: "Other" }]))).toBe(false);
  });

  it("diffs two tables by prefix: added, removed, and served by another app or ingress", () => {
    const next = new RouteTable([
      { routePrefix: "/", app: "root", ingress: "Root" },
      { routePrefix: "/chat", app: "chat2", ingress: "Chat" },
      { routePrefix: "/new", app: "new", ingress: "New" },
    ]);
    expect(next.diff(table)).toEqual({
      added: [{ routePrefix: "/new", app: "new", ingress: "New" }],
      removed: [{ routePrefix: "/chat/admin", app: "admin", ingress: "Admin" }],
      changed: [
        {
          from: { routePrefix: "/chat", app: "chat", ingress: "Chat" },
          to: { routePrefix: "/chat", app: "chat2", ingress: "Chat" },
        },
      ],
    });
    expect(table.diff(table)).toEqual({ added: [], removed: [], changed: [] });
  });
});
