import { describe, expect, it } from "vitest";
import { isConfigError } from "@tsserve/protocol";
import { deployment } from "./deployment.js";
import { MethodTable, NEVER_CALLABLE } from "./method-table.js";

class Base {
  inherited(): string {
    return "base";
  }
}

class Api extends Base {
  arrow = (): string => "field";
  #hidden(): string {
    return "hidden";
  }
  reply(): string {
    return this.#hidden();
  }
  private helper(): string {
    return "internals";
  }
  _underscore(): void {}
  initialize(): void {}
  checkHealth(): void {}
  exportSession(): void {}
  __call__(): string {
    return this.helper();
  }
  get computed(): () => void {
    throw new Error("getters are never read");
  }
}

describe("MethodTable", () => {
  it("without a methods list: declared methods, never _ names, hooks, fields, getters or Object's", () => {
    const t = new MethodTable(new Api());
    // `helper` is TypeScript-private: erased at run time, so only a methods list hides it.
    expect(t.names()).toEqual(["__call__", "helper", "inherited", "reply"]);
    for (const m of [
      "toString",
      "hasOwnProperty",
      "constructor",
      "arrow",
      "computed",
      "#hidden",
      ...NEVER_CALLABLE,
    ]) {
      expect(t.get(m)).toBeUndefined();
    }
    expect(t.notFound("arrow", "Api").message).toContain("an instance field holding a function");
    expect(t.notFound("nope", "Api").message).toContain("no `methods` list");
  });

  it("with a methods list: exactly those plus __call__, and the error says so", () => {
    const t = new MethodTable(new Api(), ["reply", "arrow"]);
    expect(t.names()).toEqual(["__call__", "arrow", "reply"]);
    const err = t.notFound("helper", "Api");
    expect(err.code).toBe("METHOD_NOT_FOUND");
    expect(err.message).toBe(
      'deployment Api has no callable method "helper"; callable: __call__, arrow, reply ' +
        "(the `methods` list of deployment({...}), and __call__ when the class has one)",
    );
    expect(t.notFound("initialize", "Api").message).toContain("lifecycle hook");
  });

  it("fails the start when a listed method does not exist", () => {
    expect(() => new MethodTable(new Api(), ["missing"])).toThrow(/methods lists "missing"/);
  });
});

describe("deployment({ methods })", () => {
  it("refuses _ names, lifecycle hooks and Object members where they are written", () => {
    for (const m of ["_x", "initialize", "checkHealth", "importSession", "toString", ""]) {
      let err: unknown;
      try {
        deployment({ methods: [m] as never[] });
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err), m).toBe(true);
      expect((err as Error).message).toContain("cannot be callable");
    }
  });

  it("types the list as the class's public methods and keeps it through withOptions", () => {
    const dep = deployment({ methods: ["reply", "inherited"] })(Api);
    expect(dep.methods).toEqual(["reply", "inherited"]);
    expect(dep.withOptions({ numReplicas: 2 }).methods).toEqual(["reply", "inherited"]);
    // @ts-expect-error a TypeScript-private helper cannot be listed
    deployment({ methods: ["helper"] })(Api);
    // @ts-expect-error nor a name the class does not have
    deployment({ methods: ["nope"] })(Api);
    expect(deployment({})(Api).methods).toBeUndefined();
  });
});
