import { Metadata, status as Status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { GrpcApplications } from "./grpc-target.js";

const app = (name: string, ingress: string) => ({ name, routePrefix: null, ingress, deployments: [] });

function md(entries: Record<string, string>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
}

describe("GrpcApplications", () => {
  it("needs no application metadata when exactly one application is deployed", () => {
    const apps = new GrpcApplications();
    apps.update([app("only", "Ingress")]);
    expect(apps.resolve(md({ session_id: " u1 " }))).toEqual({
      app: "only",
      ingress: "Ingress",
      sessionId: "u1",
    });
  });

  it("requires it when several are deployed, and names unknown ones with the known list", () => {
    const apps = new GrpcApplications();
    apps.update([app("b", "B"), app("a", "A")]);
    expect(apps.resolve(md({ application: "a" }))).toEqual({ app: "a", ingress: "A", sessionId: null });
    expect(() => apps.resolve(md({}))).toThrow(/"application" is required .* known applications: a, b/);
    expect(() => apps.resolve(md({ application: "zz" }))).toThrow(
      expect.objectContaining({
        code: Status.NOT_FOUND,
        message: expect.stringMatching(/unknown application "zz"/),
      }),
    );
  });

  it("says when nothing is deployed", () => {
    expect(() => new GrpcApplications().resolve(md({}))).toThrow(/no application is deployed/);
  });
});
