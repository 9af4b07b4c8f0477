import type { Row, TargetCheck } from "../harness/suite.js";

const cell = (rows: Row[], workload: string, router: string, key: string): number =>
  Number(rows.find((r) => r["workload"] === workload && r["router"] === router)?.[key]);

function check(
  name: string,
  target: string,
  value: number,
  ok: (v: number) => boolean,
  note: string,
): TargetCheck {
  const met = Number.isFinite(value) && ok(value);
  return {
    name,
    target,
    measured: Number.isFinite(value) ? value.toFixed(3) : "n/a",
    met,
    ...(met ? {} : { note }),
  };
}

/** Issue 21's done-when, read off the suite's rows (quick mode runs the chat workload only). */
export function llmTargets(rows: Row[], quick: boolean): TargetCheck[] {
  const hit = (w: string, r: string) => cell(rows, w, r, "hitRate") / cell(rows, w, "Oracle", "hitRate");
  const ttft = (w: string, r: string, base: string) =>
    cell(rows, w, r, "ttftP90Ms") / cell(rows, w, base, "ttftP90Ms");
  const t: TargetCheck[] = [
    check(
      "chat: Scoring hit rate ÷ oracle",
      "≥ 0.95",
      hit("chat", "Scoring"),
      (v) => v >= 0.95,
      "the index agrees with the engines' caches; the loss is calls spilled to cold replicas while the best one's batch is full (machine stalls fill batches): see the rounds' hit range",
    ),
    check(
      "chat: Scoring TTFT p90 ÷ PowerOfTwo",
      "≤ 0.5",
      ttft("chat", "Scoring", "PowerOfTwo"),
      (v) => v <= 0.5,
      "cold prefills dominate the tail",
    ),
    check(
      "chat: Scoring max/mean calls per replica",
      "≤ 1.25",
      cell(rows, "chat", "Scoring", "maxOverMean"),
      (v) => v <= 1.25,
      "raise the load weight or lower loadBound",
    ),
  ];
  if (quick) return t;
  t.splice(
    2,
    0,
    check(
      "chat: Scoring TTFT p90 ÷ ConsistentHash",
      "≤ 0.8",
      ttft("chat", "Scoring", "ConsistentHash"),
      (v) => v <= 0.8,
      "sessions alone keep history warm",
    ),
  );
  t.push(
    check(
      "hot session: Scoring max/mean",
      "≤ 1.25",
      cell(rows, "hot", "Scoring", "maxOverMean"),
      (v) => v <= 1.25,
      "the hot session pins its replica",
    ),
    check(
      "hot session: Scoring hit rate ÷ oracle",
      "≥ 0.9",
      hit("hot", "Scoring"),
      (v) => v >= 0.9,
      "spills lose cache",
    ),
    check(
      "agents without session id: Scoring hit rate ÷ oracle",
      "≥ 0.9",
      hit("agents", "Scoring"),
      (v) => v >= 0.9,
      "prefix index misses",
    ),
    check(
      "agents without session id: PrefixAware hit rate ÷ oracle",
      "≥ 0.9",
      hit("agents", "PrefixAware"),
      (v) => v >= 0.9,
      "Ray's policy falls back to any replica when the best is full",
    ),
  );
  return t;
}
