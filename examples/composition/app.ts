/**
 * 04 · composition — one deployment calling another through a DeploymentHandle.
 *
 * `Ingress.bind(Model.bind(...))`: a bound Application among the constructor arguments becomes a
 * DeploymentHandle inside the replica. The ingress takes the HTTP/CLI traffic and fans out to the
 * model deployment, which scales on its own (2 replicas here, 1 ingress).
 */
import { deployment, getReplicaContext, type DeploymentHandle } from "tsserve";

/** A tiny "model": a weighted sum. */
export class Model {
  constructor(private readonly weight: number) {}

  predict(values: number[]): { score: number; modelReplica: string } {
    const score = values.reduce((sum, v) => sum + v, 0) * this.weight;
    return { score, modelReplica: getReplicaContext().replicaId };
  }
}

/** Validates input, calls the model, decorates the answer. */
export class Ingress {
  constructor(private readonly model: DeploymentHandle<Model>) {}

  async __call__(input: unknown): Promise<{ score: number; modelReplica: string; ingressReplica: string }> {
    const values = Array.isArray(input) ? input : (input as { values?: unknown } | null)?.values;
    if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) {
      throw new TypeError(
        `expected a JSON list of numbers or { "values": [...] }, got ${JSON.stringify(input)}`,
      );
    }
    const prediction = await this.model.predict.remote(values);
    return { ...prediction, ingressReplica: getReplicaContext().replicaId };
  }
}

const ModelDeployment = deployment({ numReplicas: 2 })(Model);
const IngressDeployment = deployment({ numReplicas: 1 })(Ingress);

export const app = IngressDeployment.bind(ModelDeployment.bind(0.5));
