import { fileURLToPath } from "node:url";
import {
  status as Status,
  type sendUnaryData,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { ServiceInfo } from "./grpc-services.js";
import { PROTO_LOADER_OPTIONS } from "./grpc-options.js";

/** The standard health service's full name. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

// Shipped with the package (proto/), next to dist/ and src/.
const HEALTH_PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));

type HealthRequest = { service?: string };
type HealthResponse = { status: "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" | "UNKNOWN" };

/**
 * Serves `grpc.health.v1.Health`: the server as a whole (`service: ""`) and every configured
 * service are SERVING while the ingress runs; other names are NOT_FOUND (Check) or
 * SERVICE_UNKNOWN (Watch), as the health-checking protocol says. Watch sends the current status
 * and stays open until the client leaves or the server shuts down (then NOT_SERVING).
 */
export class HealthService {
  private serving = true;
  private readonly watchers = new Set<ServerWritableStream<HealthRequest, HealthResponse>>();

  constructor(private readonly services: () => readonly ServiceInfo[]) {}

  /** Adds the service to `server`. */
  addTo(server: Server): void {
    const pkg = loadSync("grpc/health/v1/health.proto", {
      ...PROTO_LOADER_OPTIONS,
      includeDirs: [HEALTH_PROTO_DIR],
    });
    const def = pkg[HEALTH_SERVICE] as Parameters<Server["addService"]>[0];
    server.addService(def, {
      Check: (call: ServerUnaryCall<HealthRequest, HealthResponse>, cb: sendUnaryData<HealthResponse>) => {
        const s = this.statusOf(call.request.service ?? "");
        if (s === "SERVICE_UNKNOWN")
          cb({ code: Status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
        else cb(null, { status: s });
      },
      Watch: (call: ServerWritableStream<HealthRequest, HealthResponse>) => {
        call.write({ status: this.statusOf(call.request.service ?? "") });
        this.watchers.add(call);
        call.once("cancelled", () => this.watchers.delete(call));
        call.once("close", () => this.watchers.delete(call));
      },
    });
  }

  /** Marks everything NOT_SERVING and ends open Watch streams (server shutting down). */
  shutdown(): void {
    this.serving = false;
    for (const w of this.watchers) {
      w.write({ status: "NOT_SERVING" });
      w.end();
    }
    this.watchers.clear();
  }

  private statusOf(service: string): HealthResponse["status"] {
    const known =
      service === "" || service === HEALTH_SERVICE || this.services().some((s) => s.name === service);
    if (!known) return "SERVICE_UNKNOWN";
    return this.serving ? "SERVING" : "NOT_SERVING";
  }
}
