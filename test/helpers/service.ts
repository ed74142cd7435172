/** A CallService over given stores with a fixed clock, for store-level tests. */
import pino from 'pino';
import { createAnalyzer } from '../../src/analysis/index.ts';
import { CallService } from '../../src/calls/service.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { Stores } from '../../src/store/types.ts';

export function serviceFor(stores: Stores, now: number): CallService {
  return new CallService(stores.calls, stores.tenants, createAnalyzer(), () => now, createMetrics(false), pino({ level: 'silent' }));
}
