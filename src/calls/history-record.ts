/**
 * An ended call as a call-history record: the call-history shape of the reference where it has one
 * (`startTime` / `endTime` in epoch seconds, `callType` sip | web), plus the outcome livecalls keeps.
 */
import type { ConversationAnalyzer } from '../analysis/index.ts';
import { callType, startedAt, type Call, type CallOutcome, type CallType, type Turn } from '../domain/call.ts';
import type { EndReason } from '../domain/events.ts';
import { agentName, customerName, customerPhone, durationSeconds } from '../domain/view.ts';

export type HistoryCallType = 'sip' | 'web';

export interface HistoryRecord {
  id: string;
  roomName: string;
  startTime: number;
  endTime: number;
  duration: number;
  aiAgentName: string;
  customerName: string;
  customerPhone: string;
  callType: HistoryCallType;
  sentiment: Call['sentiment'];
  sentimentScore: number;
  topics: string[];
  summary: string;
  endReason: EndReason | null;
  transferRequested: boolean;
  turnCount: number;
}

/** livecalls says phone where the reference says sip. */
export const toHistoryCallType = (t: CallType): HistoryCallType => (t === 'phone' ? 'sip' : 'web');

/** Topics and summary of a conversation (the live insights' analysis). */
export function outcomeOf(analyzer: ConversationAnalyzer, call: Call, transcript: readonly Turn[]): CallOutcome {
  const insights = analyzer.insights(transcript, {
    customerName: customerName(call),
    customerPhone: customerPhone(call),
    transferRequested: call.transfer !== null,
  });
  return { topics: insights.topics, summary: insights.summary };
}

export function toHistoryRecord(call: Call, outcome: CallOutcome): HistoryRecord {
  const end = call.endedAt ?? startedAt(call);
  return {
    id: call.id,
    roomName: call.roomName,
    startTime: Math.floor(startedAt(call) / 1000),
    endTime: Math.floor(end / 1000),
    duration: durationSeconds(call, end),
    aiAgentName: agentName(call),
    customerName: customerName(call),
    customerPhone: customerPhone(call),
    callType: toHistoryCallType(callType(call)),
    sentiment: call.sentiment,
    sentimentScore: call.sentimentScore,
    topics: outcome.topics,
    summary: outcome.summary,
    endReason: call.endReason,
    transferRequested: call.transfer !== null,
    turnCount: call.turnCount,
  };
}

/** CSV columns of an export, in order. */
export const CSV_COLUMNS: readonly (keyof HistoryRecord)[] = [
  'id',
  'roomName',
  'startTime',
  'endTime',
  'duration',
  'aiAgentName',
  'customerName',
  'customerPhone',
  'callType',
  'sentiment',
  'sentimentScore',
  'topics',
  'summary',
  'endReason',
  'transferRequested',
  'turnCount',
];

/**
 * One CSV cell (RFC 4180). A text cell a spreadsheet would run as a formula (it starts with = + - @, or a tab
 * or carriage return) is prefixed with a single quote: caller names and transcripts are the callers' words.
 * A cell holding a semicolon or a tab is quoted too: spreadsheets set to split on those (Excel in many
 * locales splits on ';') would otherwise cut "Bob;=cmd|…" into a second cell that starts a formula.
 */
export function csvCell(value: unknown): string {
  let text = Array.isArray(value) ? value.join('; ') : value === null || value === undefined ? '' : String(value);
  if (typeof value !== 'number' && typeof value !== 'boolean' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",;\t\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(record: HistoryRecord): string {
  return CSV_COLUMNS.map((c) => csvCell(record[c])).join(',') + '\r\n';
}
