/** What every section of the benchmark is given, and the shape of what it reports. */
import path from 'node:path';
import type { BackendName } from './backends.ts';
import type { CorePlan } from './server.ts';

export interface BenchContext {
  /** Scratch directory for data and logs, removed at the end. */
  dir: string;
  quick: boolean;
  cores: CorePlan;
  /** Extra node flags for the server, e.g. --cpu-prof. */
  serverFlags: string[];
  /** Only these ingest kinds (batch20, single, webhooks); all when undefined. */
  ingestKinds?: string[];
  /** Background events/s during the list section (default 1,000; 0: none). */
  listChurn?: number;
  log(line: string): void;
}

/** Seconds of load for a measurement: short in --quick mode. */
export function seconds(ctx: BenchContext, full: number, quick = 2): number {
  return ctx.quick ? quick : full;
}

export function logFile(ctx: BenchContext, name: string): string {
  return path.join(ctx.dir, `${name}.log`);
}

/** One line of the printed table (and one entry of the JSON). */
export interface Row {
  section: string;
  /** `in-process`: measured without a server or store (the alerts section). */
  backend: BackendName | 'baseline' | 'in-process';
  metric: string;
  value: number;
  unit: string;
  /** Optional extra figures shown beside the value (p50/p99, ratios). */
  detail?: string;
}

/** A target from the issue, checked against a measured value. */
export interface Target {
  section: string;
  backend: BackendName;
  target: string;
  measured: string;
  pass: boolean;
}

export interface SectionResult {
  rows: Row[];
  targets: Target[];
  /** Everything measured, for the JSON. */
  raw: Record<string, unknown>;
}
