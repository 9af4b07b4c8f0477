import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { grpcArgs, grpcForRun, grpcFromFlags } from "./grpc-flags.js";

const dir = mkdtempSync(join(tmpdir(), "tsserve-grpc-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APPS = "applications:\n  - name: a\n    importPath: ./app.ts#app\n";

describe("gRPC head flags", () => {
  it("leaves gRPC off without --grpc-port or --grpc-proto, and defaults the port to 9000", () => {
    expect(grpcFromFlags({})).toBeUndefined();
    expect(grpcFromFlags({ grpcProto: ["x.proto"] })).toEqual({
      port: 9000,
      protoFiles: [resolve("x.proto")],
    });
    expect(grpcFromFlags({ grpcPort: 0 })).toEqual({ port: 0, protoFiles: [] });
    expect(grpcArgs({ grpcPort: 9100, grpcProto: ["x.proto"] })).toEqual([
      "--grpc-port",
      "9100",
      "--grpc-proto",
      resolve("x.proto"),
    ]);
  });

  it("run takes grpcOptions from serve.yaml, proto paths relative to the file, flags winning", () => {
    writeFileSync(join(dir, "g.proto"), 'syntax = "proto3";\n');
    const file = join(dir, "serve.yaml");
    writeFileSync(file, `grpcOptions:\n  port: 9300\n  protoFiles: [./g.proto]\n${APPS}`);
    expect(grpcForRun(file, {})).toEqual({ port: 9300, protoFiles: [join(dir, "g.proto")] });
    expect(grpcForRun(file, { grpcPort: 0 })).toEqual({ port: 0, protoFiles: [join(dir, "g.proto")] });
    const plain = join(dir, "plain.yaml");
    writeFileSync(plain, APPS);
    expect(grpcForRun(plain, {})).toBeUndefined();
  });

  it("names a proto file of grpcOptions that does not exist", () => {
    const file = join(dir, "missing.yaml");
    writeFileSync(file, `grpcOptions:\n  protoFiles: [./nope.proto]\n${APPS}`);
    expect(() => grpcForRun(file, {})).toThrow(
      /grpcOptions\.protoFiles\[0\]: no such file "\.\/nope\.proto"/,
    );
  });
});
