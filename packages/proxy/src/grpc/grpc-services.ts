import { dirname, resolve } from "node:path";
import { loadSync, type MethodDefinition, type PackageDefinition } from "@grpc/proto-loader";
import { ConfigError } from "@tsserve/protocol";
import { PROTO_LOADER_OPTIONS } from "./grpc-options.js";

/** One RPC of a configured service. */
export interface RpcInfo {
  /** Full path, `/package.Service/Method`. */
  path: string;
  /** The RPC name as written in the .proto (`SayHello`): tried first. */
  exactName: string;
  /** Its lowerCamel form (`sayHello`, proto-loader's `originalName`): tried when the exact name is not a method. */
  camelName: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** One service of the proto files, with its grpc-js definition (for `server.addService`). */
export interface ServiceInfo {
  /** Fully qualified name, `package.Service`. */
  name: string;
  definition: Record<string, MethodDefinition<object, object>>;
  rpcs: RpcInfo[];
}

/** The services of a set of proto files, and their package definition (for reflection). */
export interface LoadedProtos {
  packageDefinition: PackageDefinition;
  services: ServiceInfo[];
}

function isServiceDefinition(v: unknown): v is Record<string, MethodDefinition<object, object>> {
  if (typeof v !== "object" || v === null || "format" in v) return false;
  const methods = Object.values(v as Record<string, unknown>);
  return (
    methods.length > 0 &&
    methods.every(
      (m) => typeof m === "object" && m !== null && typeof (m as { path?: unknown }).path === "string",
    )
  );
}

/** lowerCamel of an RPC name: what proto-loader calls `originalName` (lodash.camelcase). */
function camelOf(exact: string, def: MethodDefinition<object, object>): string {
  const original = (def as { originalName?: unknown }).originalName;
  if (typeof original === "string" && original.length > 0) return original;
  return exact.charAt(0).toLowerCase() + exact.slice(1);
}

/**
 * Loads `.proto` files with {@link PROTO_LOADER_OPTIONS} and lists their services. A file that is
 * missing or does not parse is a ConfigError naming it.
 */
export function loadProtos(protoFiles: readonly string[], includeDirs: readonly string[]): LoadedProtos {
  // Absolute paths: proto-loader looks relative names up in the include dirs first (and warns).
  const files = protoFiles.map((f) => resolve(f));
  const dirs =
    includeDirs.length > 0 ? includeDirs.map((d) => resolve(d)) : [...new Set(files.map((f) => dirname(f)))];
  let packageDefinition: PackageDefinition;
  try {
    packageDefinition = loadSync(files, { ...PROTO_LOADER_OPTIONS, includeDirs: dirs });
  } catch (cause) {
    throw new ConfigError(
      `gRPC proto files ${protoFiles.join(", ")} could not be loaded: ${(cause as Error).message}`,
      { cause },
    );
  }
  const services: ServiceInfo[] = [];
  for (const [name, def] of Object.entries(packageDefinition)) {
    if (!isServiceDefinition(def)) continue;
    const rpcs = Object.entries(def).map(([exactName, m]) => ({
      path: m.path,
      exactName,
      camelName: camelOf(exactName, m),
      requestStream: m.requestStream,
      responseStream: m.responseStream,
    }));
    services.push({ name, definition: def, rpcs });
  }
  return { packageDefinition, services };
}
