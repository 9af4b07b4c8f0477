// Spawns an extra controller process (beside the one a local cluster runs), watched by
// test-utils' processFixture: stderr kept for assertions, killed by PID on dispose.
import { spawn } from "node:child_process";
import { controllerEntryPath } from "@tsserve/controller/internal";
import { processFixture, type ProcessFixture } from "@tsserve/test-utils";

export function spawnController(address: string, prefix: string, controllerId: string): ProcessFixture {
  const args = [
    controllerEntryPath(),
    "--address",
    address,
    "--prefix",
    prefix,
    "--controller-id",
    controllerId,
  ];
  return processFixture(spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] }), {
    stderrChars: 50_000,
  });
}
