import { ConfigError } from "@tsserve/protocol";
import { describe, unknownFieldMessage } from "@tsserve/protocol/internal";
import { z } from "zod";

/**
 * Building blocks for config schemas whose errors read like the rest of tsserve's:
 * `<field path>: expected <what is accepted>, got <value>`. Each block carries its expectation as
 * the zod issue message; {@link configErrorOf} adds the path and the value. A message that contains
 * `{path}` is a whole sentence of its own (the path and `{value}` are filled in).
 */

/** A mapping that rejects unknown fields, listing the known ones and suggesting the likely one. */
export function strict<S extends z.core.$ZodLooseShape>(
  expected: string,
  shape: S,
): z.ZodObject<S, z.core.$strict> {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `{path}.${iss.keys[0] ?? ""}: ${unknownFieldMessage(iss.keys[0] ?? "", known)}`
        : expected,
  });
}

/** A string of at least one character. */
export function nonEmpty(): z.ZodString {
  return z.string({ error: "a non-empty string" }).min(1, { error: "a non-empty string" });
}

/** An integer >= `min`. */
export function intAtLeast(min: number): z.ZodInt {
  const expected = `an integer >= ${min}`;
  return z.int({ error: expected }).min(min, { error: expected });
}

/** A finite number >= `min` (or > `min` when `exclusive`). */
export function numberAtLeast(min: number, exclusive = false): z.ZodNumber {
  const expected = `a number ${exclusive ? ">" : ">="} ${min}`;
  const n = z.number({ error: expected });
  return exclusive ? n.gt(min, { error: expected }) : n.min(min, { error: expected });
}

/** `applications[0].deployments[1].name` from zod's `["applications", 0, "deployments", 1, "name"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out === "" ? "" : "."}${String(p)}`;
  return out;
}

/** The value at `path` in the raw document (what the user wrote). */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const p of path)
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/**
 * The one-line ConfigError for a failed parse of `raw`: the first issue, except that an unknown
 * field with a suggestion goes first, since it usually explains the rest (`application:` makes
 * `applications` missing).
 */
export function configErrorOf(error: z.ZodError, raw: unknown): ConfigError {
  const issue =
    error.issues.find((i) => i.code === "unrecognized_keys" && i.message.includes("did you mean")) ??
    error.issues[0];
  if (issue === undefined) return new ConfigError("invalid config");
  const path = formatPath(issue.path);
  const value = valueAt(raw, issue.path);
  const message = issue.message.includes("{path}")
    ? issue.message
        .replace("{path}", () => path)
        .replace(/^\./, "")
        .replace("{value}", () => describe(value))
    : `${path === "" ? "(top level)" : path}: expected ${issue.message}, got ${describe(value)}`;
  return new ConfigError(message, { data: { path } });
}
