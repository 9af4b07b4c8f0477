import type { Options as ProtoLoaderOptions } from "@grpc/proto-loader";
import { ConfigError } from "@tsserve/protocol";

/** gRPC port when none is given, as in Ray Serve's `grpc_options.port`. */
export const DEFAULT_GRPC_PORT = 9000;

/**
 * How request and response messages map to plain objects (documented in the proxy README):
 * - `keepCase: true`: fields keep their .proto names (`session_id`, not `sessionId`);
 * - `longs: String`: 64-bit integers arrive as decimal strings (no precision loss; return a
 *   number or a string);
 * - `enums: String`: enum values arrive as their names (return a name or a number);
 * - `defaults: true`: unset scalar fields arrive with their default (`0`, `""`, `false`, `[]`);
 * - `oneofs: true`: a oneof's name holds the name of the field that is set;
 * - `bytes`: Buffers.
 */
export const PROTO_LOADER_OPTIONS: ProtoLoaderOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The `grpc` option of `startProxy`: a gRPC ingress beside the HTTP one (Ray's `grpc_options`). */
export interface GrpcIngressOptions {
  /** TCP port; 0 picks a free port (read it back from `proxy.grpcPort`). @default 9000 */
  port?: number;
  /** Interface to listen on. @default the proxy's `host` */
  host?: string;
  /**
   * `.proto` files whose services are served: each RPC calls the method of the same name (exact,
   * else lowerCamel) of the ingress deployment of the application named by the `application`
   * metadata. @default [] (only the health service)
   */
  protoFiles?: string[];
  /** Directories `import`s in the proto files resolve from. @default the files' own directories */
  includeDirs?: string[];
}

/** {@link GrpcIngressOptions} validated, every default filled in. */
export interface ResolvedGrpcOptions {
  port: number;
  host: string | undefined;
  protoFiles: string[];
  includeDirs: string[];
}

function bad(field: string, expected: string, value: unknown): never {
  throw new ConfigError(
    `proxy option grpc.${field}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`,
  );
}

function strings(field: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s.length === 0))
    bad(field, "a list of file paths", v);
  return v as string[];
}

/** Validates the `grpc` option once; throws ConfigError naming the bad field. */
export function resolveGrpcOptions(o: GrpcIngressOptions): ResolvedGrpcOptions {
  if (typeof o !== "object" || o === null) bad("(options)", "an object", o);
  const known = ["port", "host", "protoFiles", "includeDirs"];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) bad(k, `one of ${known.join(", ")} (unknown option)`, k);
  }
  const port = o.port ?? DEFAULT_GRPC_PORT;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    bad("port", "an integer between 0 and 65535", port);
  if (o.host !== undefined && (typeof o.host !== "string" || o.host.length === 0))
    bad("host", "a host name or IP address", o.host);
  return {
    port,
    host: o.host,
    protoFiles: strings("protoFiles", o.protoFiles),
    includeDirs: strings("includeDirs", o.includeDirs),
  };
}
