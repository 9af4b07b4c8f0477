import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throw-away CA and a server certificate for 127.0.0.1, as PEM files in a temp directory. */
export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** A client certificate signed by the same CA (for servers that verify clients). */
  clientCertFile: string;
  clientKeyFile: string;
  remove(): void;
}

/**
 * Generates a CA and server/client certificates with the `openssl` command line (one day of
 * validity, SAN IP:127.0.0.1). Throws with openssl's output if it is missing or fails.
 */
export function generateTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "tsserve-tls-"));
  const p = (f: string): string => join(dir, f);
  const run = (...args: string[]): void => {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  };
  writeFileSync(p("san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=tsserve-test-ca",
  );
  for (const who of ["server", "client"]) {
    run(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      p(`${who}.key`),
      "-out",
      p(`${who}.csr`),
      "-subj",
      `/CN=${who === "server" ? "127.0.0.1" : "tsserve-client"}`,
    );
    run(
      "x509",
      "-req",
      "-in",
      p(`${who}.csr`),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-out",
      p(`${who}.pem`),
      "-days",
      "1",
      "-extfile",
      p("san.cnf"),
    );
  }
  return {
    dir,
    caFile: p("ca.pem"),
    certFile: p("server.pem"),
    keyFile: p("server.key"),
    clientCertFile: p("client.pem"),
    clientKeyFile: p("client.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
