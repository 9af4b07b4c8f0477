import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError, fail, isPlainObject, nonEmptyString, noUnknownKeys } from "@tsserve/protocol";

/**
 * The `grpcOptions` block of a serve.yaml (Ray Serve's `grpc_options`): the port of the gRPC
 * ingress and the `.proto` files whose services it serves. `tsserve run` starts the ingress with
 * them; `tsserve start` takes the same as `--grpc-port` / `--grpc-proto`.
 *
 * ```yaml
 * grpcOptions:
 *   port: 9000
 *   protoFiles: [./greeter.proto]
 * ```
 */
export interface GrpcConfig {
  /** TCP port of the gRPC ingress. @default 9000 */
  port: number;
  /** `.proto` files, as written (relative paths resolve from the config file's folder). */
  protoFiles: string[];
}

const GRPC_KEYS = ["port", "protoFiles"] as const;

/** Validates `grpcOptions` (no file I/O). */
export function validateGrpcConfig(path: string, value: unknown): GrpcConfig {
  if (!isPlainObject(value)) fail(path, "a mapping with port and protoFiles", value);
  noUnknownKeys(path, value, GRPC_KEYS);
  const port = value["port"] ?? 9000;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`${path}.port`, "an integer between 0 and 65535", port);
  }
  const files = value["protoFiles"];
  if (!Array.isArray(files) || files.length === 0)
    fail(`${path}.protoFiles`, "a non-empty list of .proto files", files);
  const protoFiles = files.map((f, i) => nonEmptyString(`${path}.protoFiles[${i}]`, f));
  return { port, protoFiles };
}

/** The proto files of `config` as absolute paths, resolved from the config file's folder; each must exist. */
export function resolveProtoFiles(config: GrpcConfig, configFile: string): string[] {
  return config.protoFiles.map((f, i) => {
    const abs = resolve(dirname(configFile), f);
    if (!existsSync(abs)) {
      throw new ConfigError(
        `${configFile}: grpcOptions.protoFiles[${i}]: no such file ${JSON.stringify(f)} (looked for ${abs})`,
      );
    }
    return abs;
  });
}
