import { ConfigError, type DeploymentOptions } from "@tsserve/protocol";
import { uncallableReason } from "./method-table.js";
import {
  describe,
  resolveDeploymentOptions,
  type ResolvedDeploymentConfig,
} from "@tsserve/protocol/internal";

// Registry symbols (Symbol.for) so that two copies of this package loaded in one process (the
// runtime's and the user's) still recognise each other's objects.
const DEPLOYMENT_BRAND = Symbol.for("tsserve.deployment");
const APPLICATION_BRAND = Symbol.for("tsserve.application");
/** Where `@deployment(opts)` stores the class's Deployment. */
const DECORATED = Symbol.for("tsserve.deployment.decorated");

/** Any class a deployment can be made of. */
export type DeploymentClass<T extends object = object, Args extends unknown[] = any[]> = new (
  ...args: Args
) => T;

/**
 * One constructor argument as `bind()` accepts it: the value, or a bound Application in its place
 * (the replica swaps it for a DeploymentHandle), also as an element of an array or a property of a
 * plain object one level deep, which is as far as the replica looks.
 */
export type Bindable<A> =
  | A
  | Application
  | (A extends (...args: any[]) => unknown
      ? never
      : A extends readonly unknown[]
        ? { [I in keyof A]: A[I] | Application }
        : A extends object
          ? { [P in keyof A]: A[P] | Application }
          : never);

/** Constructor arguments as `bind()` accepts them (see {@link Bindable}). */
export type BindArgs<Args extends unknown[]> = { [K in keyof Args]: Bindable<Args[K]> };

/** A deployment class plus its validated options; `bind()` it to make an Application. */
export interface Deployment<T extends object = any, Args extends unknown[] = any[]> {
  /** The deployment name (`options.name`, else the class name). */
  readonly name: string;
  /** The user's class. */
  readonly cls: DeploymentClass<T, Args>;
  /** The options as written in code (before serve.yaml overrides). */
  readonly options: DeploymentOptions;
  /** The options validated and completed with defaults. */
  readonly config: ResolvedDeploymentConfig;
  /**
   * The methods callers may run besides `__call__` (HTTP, gRPC and handles alike), or undefined:
   * then every method the class declares, except `_` names and lifecycle hooks (see
   * {@link DeploymentCodeOptions.methods}).
   */
  readonly methods: readonly string[] | undefined;
  /** Binds constructor arguments; Applications among them become DeploymentHandles in the replica. */
  bind(...args: BindArgs<Args>): Application<T>;
  /** A copy of this deployment with some options replaced (like Ray's `Deployment.options`). */
  withOptions(overrides: DeploymentOptions): Deployment<T, Args>;
}

/** Options only code can give (not serve.yaml): they are part of the class's API. */
export interface DeploymentCodeOptions<M extends string = string> {
  /**
   * The methods callers may run, besides `__call__` which is always callable when the class has
   * one: over HTTP (`POST /prefix/<method>`), gRPC and handles alike. Typed as the class's public
   * method names, so a TypeScript-`private` helper cannot be listed. Names starting with `_`,
   * lifecycle hooks (`initialize`, `checkHealth`, …) and Object's members are refused.
   * @default every method the class (and its base classes) declares, except names starting with
   * `_`, lifecycle hooks and Object's members. TypeScript `private` is erased at run time, so a
   * `private` helper is callable under the default: list `methods`, or make it `#private`.
   */
  methods?: readonly M[];
}

/** An instance type with a public method under every name of `M`. */
export type HasMethods<M extends string> = object & { [K in M]: (...args: any[]) => unknown };

/** Checks a `methods` list once, where it is written; returns a frozen copy. */
function checkMethods(methods: unknown, where: string): readonly string[] | undefined {
  if (methods === undefined) return undefined;
  if (!Array.isArray(methods)) {
    throw new ConfigError(`${where}.methods: expected a list of method names, got ${describe(methods)}`);
  }
  for (const [i, m] of methods.entries()) {
    const why = typeof m === "string" ? uncallableReason(m) : "not a string";
    if (why !== undefined) {
      throw new ConfigError(`${where}.methods[${i}]: ${JSON.stringify(m)} cannot be callable (${why})`);
    }
  }
  return Object.freeze([...(methods as string[])]);
}

/** A deployment with bound constructor arguments: what a serve.yaml `importPath` names. */
export interface Application<T extends object = any> {
  /** The deployment this application serves at its ingress. */
  readonly deployment: Deployment<T>;
  /** The constructor arguments, possibly containing other Applications. */
  readonly args: readonly unknown[];
}

/** True for a Deployment made by `deployment(options)(Class)` in any copy of this package. */
export function isDeployment(value: unknown): value is Deployment {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[DEPLOYMENT_BRAND] === true
  );
}

/** True for an Application made by `.bind(...)` / `bind(...)` in any copy of this package. */
export function isApplication(value: unknown): value is Application {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[APPLICATION_BRAND] === true
  );
}

function makeApplication<T extends object>(dep: Deployment<T>, args: unknown[]): Application<T> {
  const app = { deployment: dep, args: Object.freeze([...args]) };
  Object.defineProperty(app, APPLICATION_BRAND, { value: true });
  return Object.freeze(app);
}

function makeDeployment<T extends object, Args extends unknown[]>(
  cls: DeploymentClass<T, Args>,
  options: DeploymentOptions,
  methods: readonly string[] | undefined,
): Deployment<T, Args> {
  if (typeof cls !== "function") {
    throw new ConfigError(`deployment(options) must be applied to a class, got ${describe(cls)}`);
  }
  const config = resolveDeploymentOptions(
    options,
    cls.name || undefined,
    `deployment ${cls.name || "(anonymous)"}`,
  );
  const dep: Deployment<T, Args> = {
    name: config.name,
    cls,
    options: Object.freeze({ ...options }),
    config,
    methods,
    bind: (...args) => makeApplication(dep, args),
    withOptions: (overrides) => makeDeployment(cls, { ...options, ...overrides }, methods),
  };
  Object.defineProperty(dep, DEPLOYMENT_BRAND, { value: true });
  return Object.freeze(dep);
}

/** What `deployment(options)` returns: usable as a function on a class or as a class decorator. */
export interface DeploymentFactory<M extends string = never> {
  // The decorator signature comes first: TypeScript resolves a decorator call against the first
  // overload that accepts (value, context).
  /** Standard (TS 5 / TC39) class decorator form: `@deployment(options) class MyClass {}`. */
  <C extends DeploymentClass<HasMethods<M>>>(cls: C, context: ClassDecoratorContext<C>): void;
  /** Function form: `deployment(options)(MyClass)` → a Deployment. */
  <T extends HasMethods<M>, Args extends unknown[]>(cls: DeploymentClass<T, Args>): Deployment<T, Args>;
}

/**
 * Declares a deployment. Options are validated at once (a ConfigError names the bad field).
 *
 * How a replica serves the class:
 * - callable remotely (HTTP, gRPC and handles alike): `__call__` and the names in `methods`;
 *   without `methods`, every method the class declares except names starting with `_`, lifecycle
 *   hooks (`initialize`, `checkHealth`, …) and Object's members. Anything else gets
 *   METHOD_NOT_FOUND listing what is callable. TypeScript `private` is erased at run time: hide a
 *   helper by listing `methods` (typed: a `private` name is a compile error) or with `#private`;
 * - `async initialize()`, if present, is awaited after the constructor and before the replica
 *   reports READY (constructors cannot be async);
 * - sync, async and (async) generator methods: generators must be called with `stream: true`
 *   (without it the call fails with BAD_REQUEST and the method is not run); with `stream: true`
 *   any other method's result is sent as a single chunk;
 * - bound Applications among the constructor args (top level, or in an array / plain object one
 *   level deep) arrive as DeploymentHandles of the same application.
 *
 * ```ts
 * // function form
 * export const app = deployment({ numReplicas: 2 })(Chat).bind("gpt");
 * // decorator form: bind with the typed `bind()` function, not `Chat.bind`
 * @deployment({ numReplicas: 2 }) class Chat { constructor(model: string) {} }
 * export const app = bind(Chat, "gpt");
 * ```
 */
export function deployment<M extends string = never>(
  options: DeploymentOptions & DeploymentCodeOptions<M> = {},
): DeploymentFactory<M> {
  const { methods: listed, ...rest } = options;
  // Validate now, with a placeholder name, so bad options fail where they are written even
  // before the decorator or function is applied.
  resolveDeploymentOptions(rest, "deployment");
  const methods = checkMethods(listed, "deployment");
  return ((cls: DeploymentClass, context?: ClassDecoratorContext) => {
    const dep = makeDeployment(cls, rest, methods);
    if (context !== undefined && typeof context === "object" && context.kind === "class") {
      Object.defineProperty(cls, DECORATED, { value: dep });
      return undefined;
    }
    return dep;
  }) as DeploymentFactory<M>;
}

/** The Deployment of a class decorated with `@deployment(...)`, or undefined. */
export function deploymentOf(cls: unknown): Deployment | undefined {
  if (typeof cls !== "function") return undefined;
  const dep = (cls as unknown as Record<symbol, unknown>)[DECORATED];
  return isDeployment(dep) ? dep : undefined;
}

/**
 * Typed binding for decorated classes (and Deployments). TypeScript keeps typing `MyClass.bind`
 * of a decorated class as `Function.prototype.bind`, so write `bind(MyClass, ...args)` instead:
 * the arguments are checked against the constructor's parameters.
 */
export function bind<T extends object, Args extends unknown[]>(
  target: Deployment<T, Args>,
  ...args: BindArgs<Args>
): Application<T>;
export function bind<C extends DeploymentClass>(
  target: C,
  ...args: BindArgs<ConstructorParameters<C>>
): Application<InstanceType<C>>;
export function bind(target: unknown, ...args: unknown[]): Application {
  if (isDeployment(target)) return target.bind(...args);
  const dep = deploymentOf(target);
  if (dep !== undefined) return dep.bind(...args);
  const what = typeof target === "function" ? `class ${target.name || "(anonymous)"}` : describe(target);
  throw new ConfigError(
    `bind(): expected a Deployment or a class decorated with @deployment(...), got ${what}; ` +
      `wrap it with deployment(options)(Class) or decorate it`,
  );
}
