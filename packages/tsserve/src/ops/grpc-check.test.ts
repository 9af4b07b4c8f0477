import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HeadRecord } from "../head/state-dir.js";
import { checkGrpcServed } from "./grpc-check.js";

const dir = mkdtempSync(join(tmpdir(), "tsserve-grpc-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "a.proto"), 'syntax = "proto3";\n');
writeFileSync(join(dir, "b.proto"), 'syntax = "proto3"; package b;\n');
copyFileSync(join(dir, "a.proto"), join(dir, "a-copy.proto"));
const file = join(dir, "serve.yaml");
const head = (over: Partial<HeadRecord>): HeadRecord => ({
  address: "nats://127.0.0.1:1",
  prefix: "tsserve",
  pid: 1,
  natsPid: null,
  controllerPid: null,
  agentPids: [],
  httpUrl: null,
  startedAt: 0,
  ...over,
});
const grpc = { port: 9000, protoFiles: ["./a.proto"] };

describe("checkGrpcServed", () => {
  it("refuses protoFiles a head without gRPC cannot serve, saying how to start one that does", () => {
    expect(() => checkGrpcServed(grpc, file, head({ grpcAddress: null }))).toThrow(
      /serves no gRPC, so these RPCs would answer UNIMPLEMENTED; .*tsserve start --grpc-port 9000 --grpc-proto .*a\.proto/,
    );
  });

  it("refuses proto files the head's ingress was not started with, naming them", () => {
    const h = head({ grpcAddress: "127.0.0.1:9000", grpcProtoFiles: [join(dir, "b.proto")] });
    expect(() => checkGrpcServed(grpc, file, h)).toThrow(/serves .*b\.proto, not .*a\.proto/);
  });

  it("accepts served files (same path or same content), and knows nothing without a head record", () => {
    const h = head({ grpcAddress: "127.0.0.1:9000", grpcProtoFiles: [join(dir, "a-copy.proto")] });
    expect(() => checkGrpcServed(grpc, file, h)).not.toThrow();
    expect(() => checkGrpcServed(grpc, file, undefined)).not.toThrow();
    expect(() => checkGrpcServed(undefined, file, head({}))).not.toThrow();
  });
});
