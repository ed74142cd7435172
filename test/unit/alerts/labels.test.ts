/** Prometheus label cardinality: agent names are bounded, the rest counted as "other". */
import { describe, expect, it } from 'vitest';
import { AgentLabels } from '../../../src/calls/telemetry-metrics.ts';

describe('agent labels', () => {
  it('keeps the first names seen, then answers "other"; an empty name is "unknown"', () => {
    const labels = new AgentLabels(3);
    expect(['a', 'b', 'c', 'd', 'a', 'e'].map((n) => labels.of(n))).toEqual(['a', 'b', 'c', 'other', 'a', 'other']);
    expect(new AgentLabels().of('')).toBe('unknown');
    expect(new AgentLabels().of('x'.repeat(500))).toHaveLength(64);
  });
});
