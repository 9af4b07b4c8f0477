import { ConfigError, MethodNotFoundError } from "@tsserve/protocol";
import { HEALTH_CHECK_METHOD } from "./health-check.js";

/** How a method produces its result, known from its function kind before it is called. */
export const MethodKind = { PLAIN: 0, GENERATOR: 1 } as const;
export type MethodKind = (typeof MethodKind)[keyof typeof MethodKind];

/** One remotely callable method of the deployment instance. */
export interface MethodEntry {
  readonly name: string;
  readonly fn: (...args: unknown[]) => unknown;
  readonly kind: MethodKind;
}

/** Lifecycle hook awaited before READY; never callable remotely. */
export const INIT_HOOK = "initialize";
/** Stateful deployments' hand-off hooks (session-hooks.ts); never callable remotely. */
export const EXPORT_SESSION_HOOK = "exportSession";
export const IMPORT_SESSION_HOOK = "importSession";

/** The entry point an HTTP POST to the route prefix (and a handle's `.remote()`) calls. */
export const DEFAULT_METHOD = "__call__";

/**
 * Names the runtime calls itself and that no caller may ever reach, whatever a `methods` list says
 * (a hook that adds a name adds one line here).
 */
export const NEVER_CALLABLE: ReadonlySet<string> = new Set([
  "constructor",
  INIT_HOOK,
  HEALTH_CHECK_METHOD,
  // session-state hooks (moving a session between replicas)
  EXPORT_SESSION_HOOK,
  IMPORT_SESSION_HOOK,
  // multiplexing's model hooks (multiplex/)
  "loadModel",
  "unloadModel",
]);

/**
 * True for a name a caller may use at all: `__call__`, or a name that does not start with `_`,
 * is not in {@link NEVER_CALLABLE} and is not a member of `Object.prototype` (`toString`, …).
 */
export function isCallableName(name: string): boolean {
  if (name === DEFAULT_METHOD) return true;
  return name.length > 0 && name[0] !== "_" && !NEVER_CALLABLE.has(name) && !(name in Object.prototype);
}

/** Why `name` can never be in a `methods` list, or undefined when it may be. */
export function uncallableReason(name: string): string | undefined {
  if (name.length === 0) return "an empty name";
  if (name === DEFAULT_METHOD) return undefined;
  if (name[0] === "_") return "names starting with _ are private";
  if (NEVER_CALLABLE.has(name)) return "a lifecycle hook the runtime calls itself";
  if (name in Object.prototype) return "a member of Object.prototype";
  return undefined;
}

function kindOf(fn: unknown): MethodKind {
  const ctor = (fn as { constructor?: { name?: string } }).constructor?.name;
  return ctor === "AsyncGeneratorFunction" || ctor === "GeneratorFunction"
    ? MethodKind.GENERATOR
    : MethodKind.PLAIN;
}

/** The function `proto` declares under `name` (a method, not a getter), or undefined. */
function declared(proto: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  return typeof d?.value === "function" ? (d.value as (...args: unknown[]) => unknown) : undefined;
}

const DEFAULT_RULE =
  "no `methods` list in deployment({...}), so every method the class declares is callable, " +
  "except names starting with _, lifecycle hooks and Object's members; TypeScript `private` is " +
  "erased at run time: list `methods` or use #private to hide a helper";
const LIST_RULE = "the `methods` list of deployment({...}), and __call__ when the class has one";

/**
 * The methods of one deployment instance a caller (HTTP, gRPC, a handle: the rule is here, once)
 * may run, collected once after construction so that the hot path is one Map lookup:
 *
 * - with a `methods` list: `__call__` (when the class has one) and exactly the listed names (a
 *   listed name that is not a function on the instance fails the start with a ConfigError);
 * - without one: `__call__` and every method declared by the class or its base classes (its
 *   prototype chain below `Object.prototype`), not instance fields holding functions;
 * - in both cases names starting with `_`, {@link NEVER_CALLABLE} and `Object.prototype`'s members
 *   never. `#private` methods are invisible at run time, hence never callable.
 */
export class MethodTable {
  private readonly entries = new Map<string, MethodEntry>();
  /** Function-valued instance fields (not callable), named in the METHOD_NOT_FOUND hint. */
  private readonly fields = new Set<string>();
  private readonly rule: string;
  private available: string | undefined;

  constructor(instance: object, methods?: readonly string[]) {
    this.rule = methods === undefined ? DEFAULT_RULE : LIST_RULE;
    const record = instance as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(instance)) {
      if (typeof Object.getOwnPropertyDescriptor(instance, name)?.value === "function") this.fields.add(name);
    }
    if (methods !== undefined) {
      if (typeof record[DEFAULT_METHOD] === "function") this.add(DEFAULT_METHOD, record[DEFAULT_METHOD]);
      for (const name of methods) {
        const why = uncallableReason(name);
        if (why !== undefined)
          throw new ConfigError(`methods: ${JSON.stringify(name)} cannot be callable (${why})`);
        const fn = record[name];
        if (typeof fn !== "function") {
          throw new ConfigError(
            `methods lists ${JSON.stringify(name)}, but the instance has no such method (got ${typeof fn})`,
          );
        }
        this.add(name, fn);
      }
      return;
    }
    for (
      let o = Object.getPrototypeOf(instance) as object | null;
      o !== null && o !== Object.prototype;
      o = Object.getPrototypeOf(o) as object | null
    ) {
      for (const name of Object.getOwnPropertyNames(o)) {
        if (this.entries.has(name) || !isCallableName(name)) continue;
        const fn = declared(o, name);
        if (fn !== undefined) this.add(name, fn);
      }
    }
  }

  private add(name: string, fn: unknown): void {
    const f = fn as (...args: unknown[]) => unknown;
    this.entries.set(name, { name, fn: f, kind: kindOf(f) });
  }

  /** The entry for `name`, or undefined. */
  get(name: string): MethodEntry | undefined {
    return this.entries.get(name);
  }

  /** Sorted method names, for error messages. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The METHOD_NOT_FOUND error for `name`, listing only what a caller may call, and why. */
  notFound(name: string, deployment: string): MethodNotFoundError {
    this.available ??= this.names().join(", ") || "(none)";
    const why = uncallableReason(name);
    const hint =
      why !== undefined
        ? ` (${why})`
        : this.fields.has(name)
          ? " (an instance field holding a function, not a method: declare it as a method)"
          : "";
    return new MethodNotFoundError(
      `deployment ${deployment} has no callable method ${JSON.stringify(name)}${hint}; ` +
        `callable: ${this.available} (${this.rule})`,
      { data: { method: name } },
    );
  }
}
