import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "@tsserve/protocol";

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
