/**
 * What the call history keeps beside an ended call so it can be filtered and searched without reading every
 * call: the filter fields, and the search document (the caller's name and number and the whole transcript).
 *
 * Search is by whole words, the same on every backend: text is lower-cased and cut into runs of letters and
 * digits, on the way in (the document) and on the way out (the terms). A phone number is indexed as its
 * digits, and also as its last 10 and last 7 digits, so "+1 415 555 0123", "4155550123" and "5550123" all
 * find it.
 */
import { callType, startedAt, type Call, type CallType, type Sentiment, type Turn } from './call.ts';
import type { EndReason } from './events.ts';
import { agentName, customerName, customerPhone } from './view.ts';

export interface HistoryFields {
  workspaceId: string;
  callId: string;
  startedAt: number;
  endedAt: number;
  agent: string;
  callType: CallType;
  sentiment: Sentiment;
  transferRequested: boolean;
  endReason: EndReason | null;
  customerName: string;
  customerPhone: string;
}

export function historyFields(call: Call): HistoryFields {
  return {
    workspaceId: call.workspaceId,
    callId: call.id,
    startedAt: startedAt(call),
    endedAt: call.endedAt ?? startedAt(call),
    agent: agentName(call),
    callType: callType(call),
    sentiment: call.sentiment,
    transferRequested: call.transfer !== null,
    endReason: call.endReason,
    customerName: customerName(call),
    customerPhone: customerPhone(call),
  };
}

/** The search document stops here: a transcript of hours is still found by what it says in its first part. */
export const MAX_SEARCH_DOCUMENT = 200_000;
/** Terms of one search beyond this are refused (each is a condition every match must meet). */
export const MAX_SEARCH_TERMS = 16;

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-cased words of `text`, in order. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

function phoneWords(phone: string): string[] {
  const digits = phone.replace(/\D/g, '');
  if (!digits) return [];
  return [...new Set([digits, digits.slice(-10), digits.slice(-7)])];
}

/** The text the full-text index holds for an ended call: words only, separated by single spaces. */
export function searchDocument(call: Call, transcript: readonly Turn[]): string {
  const parts = [...words(customerName(call)), ...phoneWords(customerPhone(call))];
  let doc = parts.join(' ');
  for (const turn of transcript) {
    if (doc.length >= MAX_SEARCH_DOCUMENT) break;
    const w = words(turn.content);
    if (w.length) doc += (doc ? ' ' : '') + w.join(' ');
  }
  return doc.slice(0, MAX_SEARCH_DOCUMENT);
}

/** The terms of a search (every one must appear); a phone number typed with spaces or dashes is one term. */
export function searchTerms(search: string): string[] {
  const joined = search.replace(/(\d)[\s().-]+(?=\d)/g, '$1');
  return [...new Set(words(joined))];
}
