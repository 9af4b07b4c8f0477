import { describe, expect, it } from "vitest";
import { isConfigError } from "@tsserve/protocol";
import { bind, deployment, deploymentOf, isApplication, isDeployment } from "./deployment.js";
import { buildGraph } from "./application-graph.js";

class Model {
  constructor(
    readonly name: string,
    readonly size: number,
  ) {}
}

describe("deployment()", () => {
  it("wraps a class (function form) with the class name and resolved defaults", () => {
    const dep = deployment({ numReplicas: 3 })(Model);
    expect(isDeployment(dep)).toBe(true);
    expect(dep.name).toBe("Model");
    expect(dep.config.numReplicas).toBe(3);
    expect(dep.config.maxOngoingRequests).toBe(5);
    expect(dep.cls).toBe(Model);
  });

  it("binds typed constructor args into a branded Application", () => {
    const app = deployment({ name: "M" })(Model).bind("gpt", 7);
    expect(isApplication(app)).toBe(true);
    expect(isDeployment(app)).toBe(false);
    expect(app.deployment.name).toBe("M");
    expect(app.args).toEqual(["gpt", 7]);
  });

  it("rejects bad options at once, naming the field and what is accepted", () => {
    expect(() => deployment({ maxOngoingRequests: 0 })).toThrow(
      /maxOngoingRequests: expected an integer >= 1, got 0/,
    );
    expect(() => deployment({ numReplica: 2 } as never)).toThrow(/numReplica: unknown field/);
    expect(() => deployment({ name: "a.b" })(Model)).toThrow(/name "a\.b": use letters, digits/);
    let caught: unknown;
    try {
      deployment({ maxOngoingRequests: -1 });
    } catch (e) {
      caught = e;
    }
    expect(isConfigError(caught)).toBe(true);
  });

  it("works as a standard class decorator and binds with the typed bind()", () => {
    // Applied by hand: vitest's transform leaves `@` syntax to Node, which cannot parse it yet.
    // The real syntax is covered by the decorated-app fixture, which replicas load through tsx.
    class Decorated {
      constructor(readonly greeting: string) {}
    }
    const context = { kind: "class", name: "Decorated", addInitializer: () => undefined, metadata: {} };
    const returned = deployment({ name: "Deco", numReplicas: 2 })(
      Decorated,
      context as ClassDecoratorContext<typeof Decorated>,
    );
    expect(returned).toBeUndefined();
    const dep = deploymentOf(Decorated);
    expect(dep?.name).toBe("Deco");
    const app = bind(Decorated, "hi");
    expect(isApplication(app)).toBe(true);
    expect(app.deployment).toBe(dep); // one Deployment per class, so graphs see one deployment
    expect(app.args).toEqual(["hi"]);
  });

  it("bind() accepts Deployments and explains what to do with a plain class", () => {
    const dep = deployment()(Model);
    expect(bind(dep, "x", 1).deployment).toBe(dep);
    expect(() => bind(Model as never)).toThrow(
      /expected a Deployment or a class decorated with @deployment\(...\), got class Model/,
    );
  });

  it("types bind() arguments from the constructor (Applications allowed in any position)", () => {
    const dep = deployment()(Model);
    const other = deployment({ name: "Other" })(Model).bind("x", 1);
    // @ts-expect-error a number is not a string
    expect(dep.bind(1, 7).args).toEqual([1, 7]);
    expect(dep.bind(other, 7).args[0]).toBe(other);
  });

  it("withOptions() returns a copy with replaced options", () => {
    const dep = deployment({ numReplicas: 1 })(Model).withOptions({ numReplicas: 4 });
    expect(dep.config.numReplicas).toBe(4);
    expect(dep.name).toBe("Model");
  });
});

describe("buildGraph()", () => {
  it("finds nested applications through args, arrays and plain objects", () => {
    const model = deployment()(Model).bind("m", 1);
    class Cache {}
    class Ingress {
      constructor(
        readonly a: unknown,
        readonly b: unknown[],
        readonly c: { cache: unknown },
      ) {}
    }
    const cache = deployment()(Cache).bind();
    const graph = buildGraph(deployment()(Ingress).bind(model, [model], { cache }));
    expect(graph.ingress).toBe("Ingress");
    expect([...graph.deployments.keys()].sort()).toEqual(["Cache", "Ingress", "Model"]);
    expect(graph.deployments.get("Model")?.args).toEqual(["m", 1]);
  });
});
