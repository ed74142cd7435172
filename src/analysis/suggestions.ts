/**
 * Next-best actions for the agent, from what the call is about (topic and intent) and where it stands (state,
 * customer sentiment). Never from a word that happens to appear: a restaurant caller who mentions delivery is
 * told nothing about delivery dates unless the model recognised an order-status request.
 *
 * Order: hand-off first (it raises an alert), then de-escalation, then answering a waiting caller, then the
 * topic's own action; a resolved call gets the closing step instead of the topic's action.
 */
import type { Topic } from './intent/topics.ts';
import type { CallState, SentimentLabel } from './types.ts';

export const HUMAN_REQUEST = 'human agent request';
export const COMPLAINT = 'complaint';

/** Topics that come from the conversation itself rather than from an intent. */
export type CallTopic = Topic | typeof HUMAN_REQUEST | typeof COMPLAINT;

const TOPIC_ACTION: Record<CallTopic, string> = {
  billing: 'Go through the charges on the invoice with the caller and correct or refund any wrong one.',
  payment: 'Check the payment: when it will clear, or why it was declined, and how to pay now.',
  refund: 'Check refund eligibility and tell the caller how long the refund will take.',
  'lost or stolen card': 'Block the card now and order a replacement.',
  'card problem': "Check the card's status (blocked, expired, PIN) and fix it or order a replacement.",
  'new card': "Give the card's delivery status and expected arrival; reorder it if it is overdue.",
  'money transfer': 'Look up the transfer and tell the caller where it is and when it will arrive.',
  'top-up': "Check the top-up's status and limits, then retry or reverse it.",
  'cash withdrawal': 'Check the withdrawal against the ATM records and reverse any wrong amount.',
  'exchange rate': 'Explain the rate and fees that were applied and correct a wrong rate.',
  'suspicious transaction': 'Freeze the card, go through the unrecognised transactions with the caller, and open a dispute.',
  'account access': "Verify the caller's identity, then unlock the account or reset the passcode.",
  'identity verification': 'Explain why verification is needed and walk the caller through it.',
  'account details': "Verify the caller's identity before sharing or changing account details.",
  balance: "Verify the caller's identity, then give the balance or the recent transactions.",
  'credit and interest': 'Explain the rate or limit on the account and the options to change it.',
  rewards: 'Give the rewards balance and how to redeem it.',
  cancellation: 'Ask why they want to cancel and offer a retention deal or an alternative; if they insist, confirm the cancellation.',
  booking: 'Confirm the date, time, number of people and place, and offer the nearest available alternatives.',
  travel: 'Check the trip details (flight, documents, luggage) and give the caller the current status.',
  'order and delivery': 'Look up the order and confirm its details and status with the caller.',
  'restaurant information': 'Answer the question about the restaurant (opening hours, how busy, reviews) and offer to book a table.',
  'vehicle service': 'Offer the next available service appointment.',
  insurance: "Check the caller's policy and explain the cover or the change they ask for.",
  'payroll and time off': "Check the caller's payroll or time-off record and answer from it.",
  'technical problem': 'Walk through basic troubleshooting, then open a support ticket if it is still unresolved.',
  [HUMAN_REQUEST]: 'Transfer the caller to a human agent now.',
  [COMPLAINT]: "Acknowledge the caller's frustration and apologise before moving on.",
};

/** Where an intent needs a more precise action than its topic's. */
const INTENT_ACTION: Record<string, string> = {
  'clinc:order_status': 'Look up the tracking details and give the caller an expected delivery date.',
  'clinc:order': 'Take the order: items, quantities, address and the time it is wanted.',
  'clinc:cancel_reservation': 'Find the reservation, cancel it and confirm the cancellation to the caller.',
  'clinc:confirm_reservation': 'Find the reservation and read back its date, time and party size.',
  'banking77:cancel_transfer': 'Check whether the transfer can still be stopped, and stop it if it can.',
  'clinc:lost_luggage': 'Open a lost-baggage report and give the caller its reference.',
  'clinc:flight_status': "Give the flight's current status and any gate or time change.",
};

export interface SuggestionInput {
  /** The call's topics, most relevant first. */
  topics: readonly CallTopic[];
  /** The intent behind the first intent topic, if any. */
  intent: string | null;
  state: CallState;
  sentiment: SentimentLabel;
}

export const MAX_SUGGESTIONS = 4;

export function suggest({ topics, intent, state, sentiment }: SuggestionInput): string[] {
  const out: string[] = [];
  const open = state !== 'resolved';
  if (topics.includes(HUMAN_REQUEST) && state !== 'transferred') out.push(TOPIC_ACTION[HUMAN_REQUEST]);
  if (state === 'transferred') out.push('Make sure a human agent picks the call up, with this summary.');
  if (open && (sentiment === 'negative' || topics.includes(COMPLAINT))) {
    out.push("Acknowledge the caller's frustration and apologise; offer a human agent if it is not solved quickly.");
  }
  if (state === 'waiting') out.push("Answer the caller's last request: they are waiting for a reply.");
  if (state === 'unresolved') out.push('The agent could not help: offer an alternative or a human agent.');
  if (state === 'resolved') {
    out.push('Confirm the outcome with the caller and ask whether there is anything else before closing.');
  } else if (state !== 'transferred') {
    const first = topics.find((t) => t !== HUMAN_REQUEST && t !== COMPLAINT);
    const specific = intent === null ? undefined : INTENT_ACTION[intent];
    for (const topic of topics) {
      if (topic === HUMAN_REQUEST || topic === COMPLAINT) continue;
      out.push(topic === first && specific !== undefined ? specific : TOPIC_ACTION[topic]);
    }
    if (first === undefined && out.length === 0) out.push("Ask an open question to pin down the caller's need.");
  }
  return [...new Set(out)].slice(0, MAX_SUGGESTIONS);
}
