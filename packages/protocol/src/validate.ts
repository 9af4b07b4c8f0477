import { unknownFieldMessage } from "./did-you-mean.js";
import { ConfigError, ProtocolError } from "./errors.js";

/** Small validators that name the field path, the value and what is accepted. */

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function fail(path: string, expected: string, value: unknown): never {
  throw new ConfigError(`${path}: expected ${expected}, got ${describe(value)}`, { data: { path } });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function intAtLeast(path: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min)
    fail(path, `an integer >= ${min}`, value);
  return value;
}

export function numberAtLeast(path: string, value: unknown, min: number, exclusive = false): number {
  if (typeof value !== "number" || !Number.isFinite(value) || (exclusive ? value <= min : value < min)) {
    fail(path, `a number ${exclusive ? ">" : ">="} ${min}`, value);
  }
  return value;
}

export function nonEmptyString(path: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) fail(path, "a non-empty string", value);
  return value;
}

/**
 * Rejects keys that are not in `known`, listing the known ones and the likely intended one (typos
 * and Ray's snake_case are the commonest config bugs).
 */
export function noUnknownKeys(path: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${path}${path ? "." : ""}${key}: ${unknownFieldMessage(key, known)}`, {
        data: { path: `${path}.${key}` },
      });
    }
  }
}

/**
 * Throws a ProtocolError unless `body` is an empty map `{}`: the only body of a destructive op
 * (shutdown) whose sender means it. msgpack decodes stray bytes to odd objects (0xc1 → an
 * extension object), which must not count as a request to stop a cluster.
 */
export function requireEmptyMap(op: string, body: unknown): void {
  const ok =
    typeof body === "object" &&
    body !== null &&
    Object.getPrototypeOf(body) === Object.prototype &&
    Object.keys(body).length === 0;
  if (!ok) throw new ProtocolError(`${op} takes an empty map {}, got ${describe(body)}`);
}
