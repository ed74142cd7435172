/** Field sets of the Active Calls API responses, from shared/reference/active-calls-api.md. */
export const LIST_ITEM_FIELDS = [
  'aiAgentName',
  'customerName',
  'customerPhone',
  'duration',
  'id',
  'lastMessage',
  'participants',
  'roomName',
  'sentiment',
  'status',
  'transferRequested',
  'type',
];

export const DETAIL_FIELDS = [
  'aiAgentName',
  'customerName',
  'customerPhone',
  'duration',
  'id',
  'participants',
  'roomName',
  'sentiment',
  'sentimentScore',
  'sentimentSignals',
  'sentimentTrend',
  'transcript',
];
