import { ConfigError } from "@tsserve/protocol";
import { describe, isPlainObject } from "@tsserve/protocol/internal";

const PATH = "requestRouter.kwargs";

/**
 * Reads one router's kwargs once, at construction: unknown keys and bad values are ConfigErrors
 * naming the router, the kwarg, the value and what is accepted. Shared by the LLM routers so each
 * states its options in a few lines.
 */
export class RouterKwargs {
  private readonly k: Record<string, unknown>;

  constructor(
    private readonly router: string,
    kwargs: unknown,
    known: readonly string[],
  ) {
    const k = kwargs ?? {};
    if (!isPlainObject(k)) {
      throw new ConfigError(`${router} router: ${PATH} must be an object, got ${describe(k)}`, {
        data: { path: PATH },
      });
    }
    for (const key of Object.keys(k)) {
      if (!known.includes(key)) {
        throw new ConfigError(
          `${router} router: unknown kwarg ${PATH}.${key} (value ${describe(k[key])}); known kwargs are ${known.join(", ")}`,
          { data: { path: `${PATH}.${key}`, kwarg: key } },
        );
      }
    }
    this.k = k;
  }

  /** A finite number in [min, max], or `dflt` when absent. */
  number(key: string, dflt: number, min: number, max = Number.MAX_VALUE): number {
    const v = this.k[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.bad(key, max === Number.MAX_VALUE ? `a number >= ${min}` : `a number from ${min} to ${max}`, v);
    }
    return v;
  }

  /** An integer in [min, max], or `dflt` when absent. */
  int(key: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.number(key, dflt, min, max);
    if (!Number.isSafeInteger(v)) this.bad(key, `an integer from ${min} to ${max}`, v);
    return v;
  }

  /** A non-empty string, or `dflt` when absent. */
  string(key: string, dflt: string): string {
    const v = this.k[key];
    if (v === undefined) return dflt;
    if (typeof v !== "string" || v.length === 0) this.bad(key, "a non-empty string", v);
    return v;
  }

  /** An object of numbers >= 0 whose keys are among `names`; absent keys take `dflt`'s. */
  weights<K extends string>(key: string, dflt: Record<K, number>): Record<K, number> {
    const v = this.k[key];
    if (v === undefined) return { ...dflt };
    const names = Object.keys(dflt);
    if (!isPlainObject(v)) this.bad(key, `an object of weights by scorer (${names.join(", ")})`, v);
    const out = { ...dflt };
    for (const [name, w] of Object.entries(v)) {
      if (!names.includes(name)) this.bad(`${key}.${name}`, `one of the scorers ${names.join(", ")}`, name);
      if (typeof w !== "number" || !Number.isFinite(w) || w < 0)
        this.bad(`${key}.${name}`, "a number >= 0", w);
      out[name as K] = w;
    }
    return out;
  }

  private bad(key: string, expected: string, value: unknown): never {
    throw new ConfigError(
      `${this.router} router: ${PATH}.${key} must be ${expected}, got ${describe(value)}`,
      { data: { path: `${PATH}.${key}`, kwarg: key } },
    );
  }
}
