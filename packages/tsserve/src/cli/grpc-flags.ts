import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { loadServeConfig } from "../config/serve-config.js";
import { resolveProtoFiles } from "../config/grpc-config.js";
import type { HeadOptions } from "../head/local-head.js";

/**
 * The gRPC flags of a head (`start`, `run`), kept apart from program.ts: `--grpc-port N` turns the
 * gRPC ingress on (Ray's `serve start --grpc-port`), `--grpc-proto FILE…` names the services.
 */
export interface GrpcFlags {
  grpcPort?: number;
  grpcProto?: string[];
}

/** Adds `--grpc-port` and `--grpc-proto` to a head command. */
export function withGrpcFlags(
  cmd: Command,
  intArg: (min: number, max: number) => (v: string) => number,
): Command {
  return cmd
    .addOption(
      new Option(
        "--grpc-port <port>",
        "serve gRPC on this port too (0 = any free port; default: off, or serve.yaml grpcOptions.port for run)",
      )
        .env("TSSERVE_GRPC_PORT")
        .argParser(intArg(0, 65535)),
    )
    .option("--grpc-proto <files...>", ".proto files whose services the gRPC ingress serves");
}

/** `grpc` head option of `tsserve start`: on when either flag is given (port default 9000). */
export function grpcFromFlags(flags: GrpcFlags): HeadOptions["grpc"] {
  if (flags.grpcPort === undefined && flags.grpcProto === undefined) return undefined;
  const protoFiles = (flags.grpcProto ?? []).map((f) => resolve(f));
  return { port: flags.grpcPort ?? 9000, protoFiles };
}

/**
 * `grpc` head option of `tsserve run FILE`: the file's `grpcOptions`, with `--grpc-port` /
 * `--grpc-proto` taking precedence; undefined when neither the file nor the flags ask for gRPC.
 */
export function grpcForRun(file: string, flags: GrpcFlags): HeadOptions["grpc"] {
  const fromFlags = grpcFromFlags(flags);
  const config = loadServeConfig(file).grpcOptions;
  if (config === undefined) return fromFlags;
  return {
    port: flags.grpcPort ?? config.port,
    protoFiles:
      flags.grpcProto !== undefined ? (fromFlags?.protoFiles ?? []) : resolveProtoFiles(config, file),
  };
}

/** The gRPC flags again, for the detached `start --foreground` child. */
export function grpcArgs(flags: GrpcFlags): string[] {
  const args: string[] = [];
  if (flags.grpcPort !== undefined) args.push("--grpc-port", String(flags.grpcPort));
  if (flags.grpcProto !== undefined) args.push("--grpc-proto", ...flags.grpcProto.map((f) => resolve(f)));
  return args;
}
