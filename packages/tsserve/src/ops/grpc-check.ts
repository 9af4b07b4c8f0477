import { readFileSync } from "node:fs";
import { ConfigError } from "@tsserve/protocol";
import { resolveProtoFiles, type GrpcConfig } from "../config/grpc-config.js";
import type { HeadRecord } from "../head/state-dir.js";

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return readFileSync(a, "utf8") === readFileSync(b, "utf8");
  } catch {
    return false;
  }
}

/**
 * Refuses a deploy whose serve.yaml names `grpcOptions.protoFiles` the local head's gRPC ingress
 * does not serve: proto files are loaded when the head starts (`--grpc-proto`, or `tsserve run`),
 * not at deploy, so its RPCs would all answer UNIMPLEMENTED with no hint. Without a record of the
 * local head (a remote cluster, an older head) nothing is known and nothing is refused.
 */
export function checkGrpcServed(
  grpc: GrpcConfig | undefined,
  file: string,
  head: HeadRecord | undefined,
): void {
  if (grpc === undefined || head === undefined) return;
  const wanted = resolveProtoFiles(grpc, file);
  const how =
    `proto files are loaded when the head starts, not at deploy: \`tsserve shutdown\`, then ` +
    `\`tsserve start --grpc-port ${grpc.port} --grpc-proto ${wanted.join(" ")}\` (or \`tsserve run ${file}\`), and deploy again`;
  if (head.grpcAddress === null || head.grpcAddress === undefined) {
    throw new ConfigError(
      `${file}: grpcOptions.protoFiles: the running head serves no gRPC, so these RPCs would answer UNIMPLEMENTED; ${how}`,
    );
  }
  if (head.grpcProtoFiles === undefined) return;
  const served = head.grpcProtoFiles;
  const missing = wanted.filter((w) => !served.some((s) => sameFile(s, w)));
  if (missing.length > 0) {
    throw new ConfigError(
      `${file}: grpcOptions.protoFiles: the head's gRPC ingress (${head.grpcAddress}) serves ` +
        `${served.join(", ") || "no proto files"}, not ${missing.join(", ")}; ${how}`,
    );
  }
}
