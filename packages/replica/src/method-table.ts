import { MethodNotFoundError } from "@tsserve/protocol";

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
/** Hooks the runtime calls and callers never may: `initialize` and multiplexing's model hooks. */
const LIFECYCLE_HOOKS: ReadonlySet<string> = new Set([INIT_HOOK, "loadModel", "unloadModel"]);

/**
 * Names a caller may use: `__call__`, and every other function-valued property (own or inherited,
 * below Object.prototype) whose name does not start with `_` and is not `constructor` or the
 * `initialize` hook. Private-by-convention names stay private.
 */
export function isCallableName(name: string): boolean {
  if (name === "__call__") return true;
  return name.length > 0 && name[0] !== "_" && name !== "constructor" && !LIFECYCLE_HOOKS.has(name);
}

function kindOf(fn: unknown): MethodKind {
  const ctor = (fn as { constructor?: { name?: string } }).constructor?.name;
  return ctor === "AsyncGeneratorFunction" || ctor === "GeneratorFunction"
    ? MethodKind.GENERATOR
    : MethodKind.PLAIN;
}

/**
 * The methods of one deployment instance, collected once after construction so that the hot path
 * is one Map lookup. Methods added to the instance later are not seen (documented behaviour).
 */
export class MethodTable {
  private readonly entries = new Map<string, MethodEntry>();
  private available: string | undefined;

  constructor(instance: object) {
    const names = new Set<string>();
    for (
      let o: object | null = instance;
      o !== null && o !== Object.prototype;
      o = Object.getPrototypeOf(o) as object | null
    ) {
      for (const name of Object.getOwnPropertyNames(o)) names.add(name);
    }
    for (const name of names) {
      if (!isCallableName(name)) continue;
      let value: unknown;
      try {
        value = (instance as Record<string, unknown>)[name];
      } catch {
        continue; // a throwing getter is not a method
      }
      if (typeof value !== "function") continue;
      const fn = value as (...args: unknown[]) => unknown;
      this.entries.set(name, { name, fn, kind: kindOf(fn) });
    }
  }

  /** The entry for `name`, or undefined. */
  get(name: string): MethodEntry | undefined {
    return this.entries.get(name);
  }

  /** Sorted method names, for error messages. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The METHOD_NOT_FOUND error for `name`, listing what exists. */
  notFound(name: string, deployment: string): MethodNotFoundError {
    this.available ??= this.names().join(", ") || "(none)";
    const hint = name.startsWith("_") && name !== "__call__" ? " (names starting with _ are private)" : "";
    return new MethodNotFoundError(
      `deployment ${deployment} has no callable method ${JSON.stringify(name)}${hint}; available: ${this.available}`,
      { data: { method: name } },
    );
  }
}
