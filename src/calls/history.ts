/**
 * The call history: pages of ended calls, one call in full, and exports that stream.
 *
 * An export reads the archive in pages by key (start time, then id) and writes each page before reading the
 * next, so memory stays one page whatever the range holds; a slow client slows the reads (the stream's
 * back-pressure), it does not make them pile up.
 */
import { Readable } from 'node:stream';
import type { ConversationAnalyzer, Insights } from '../analysis/index.ts';
import { startedAt, type Call, type Turn } from '../domain/call.ts';
import { sentimentDetail, customerName, customerPhone, type SentimentDetail } from '../domain/view.ts';
import { AppError } from '../errors.ts';
import type { HistoryKey, HistoryQuery, HistoryStore } from '../store/types.ts';
import { CSV_COLUMNS, csvRow, outcomeOf, toHistoryRecord, type HistoryRecord } from './history-record.ts';

export const EXPORT_BATCH = 500;

export interface HistoryPage {
  data: HistoryRecord[];
  pagination: { page: number; limit: number; total: number; totalPages: number };
}

export interface HistoryDetail extends HistoryRecord {
  transcript: { role: Turn['role']; content: string; createdAt: string }[];
  insights: Insights & SentimentDetail;
}

export class HistoryService {
  constructor(
    private readonly store: HistoryStore,
    private readonly analyzer: ConversationAnalyzer,
  ) {}

  /** Records of some calls; a call ended before outcomes were kept is analysed from its transcript now. */
  private async records(workspaceId: string, calls: readonly Call[]): Promise<HistoryRecord[]> {
    const missing = calls.filter((c) => !c.outcome).map((c) => c.id);
    const transcripts = missing.length ? await this.store.transcripts(workspaceId, missing) : new Map<string, Turn[]>();
    return calls.map((c) => toHistoryRecord(c, c.outcome ?? outcomeOf(this.analyzer, c, transcripts.get(c.id) ?? [])));
  }

  async page(workspaceId: string, query: HistoryQuery, page: number, limit: number): Promise<HistoryPage> {
    const { calls, total } = await this.store.page(workspaceId, query, (page - 1) * limit, limit);
    return {
      data: await this.records(workspaceId, calls),
      pagination: { page, limit, total, totalPages: Math.ceil(total / limit) },
    };
  }

  async detail(workspaceId: string, callId: string): Promise<HistoryDetail> {
    const call = await this.store.get(workspaceId, callId);
    if (!call) throw new AppError('not_found', 'no such call in the call history');
    const transcript = (await this.store.transcripts(workspaceId, [call.id])).get(call.id) ?? [];
    // As the live insights route computes them (its window of recent turns), with the call's own sentiment.
    const window = call.transcript.length ? call.transcript : transcript.slice(-50);
    const insights = this.analyzer.insights(window, {
      customerName: customerName(call),
      customerPhone: customerPhone(call),
      transferRequested: call.transfer !== null,
    });
    const [record] = await this.records(workspaceId, [call]);
    return {
      ...(record as HistoryRecord),
      transcript: transcript.map((t) => ({ role: t.role, content: t.content, createdAt: new Date(t.at).toISOString() })),
      insights: { ...insights, sentiment: call.sentiment, ...sentimentDetail(call) },
    };
  }

  /** The calls that started in [from, to), oldest first, as NDJSON lines or CSV rows (with a header). */
  export(workspaceId: string, format: 'ndjson' | 'csv', from: number, to: number): Readable {
    const store = this.store;
    const records = (calls: readonly Call[]) => this.records(workspaceId, calls);
    async function* lines(): AsyncGenerator<string> {
      if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
      let after: HistoryKey | null = null;
      for (;;) {
        const batch = await store.exportBatch(workspaceId, from, to, after, EXPORT_BATCH);
        if (batch.length === 0) return;
        let chunk = '';
        for (const r of await records(batch)) chunk += format === 'csv' ? csvRow(r) : JSON.stringify(r) + '\n';
        yield chunk;
        const last = batch[batch.length - 1] as Call;
        after = { startedAt: startedAt(last), id: last.id };
        if (batch.length < EXPORT_BATCH) return;
      }
    }
    return Readable.from(lines(), { objectMode: false });
  }
}
