/**
 * Offline, rule-based call insights: cheap enough to recompute on every turn and fully deterministic, so the
 * wallboard never flickers between equivalent answers. A model-backed ConversationAnalyzer can replace this.
 */
import { conversationSentiment } from './sentiment.ts';
import type { Insights, SentimentLabel, SentimentResult, Turn } from './types.ts';

interface TopicRule {
  topic: string;
  /** Matched against lowercased text; every match counts, so repeated mentions rank a topic higher. */
  patterns: RegExp[];
  suggestion: string;
}

export const HUMAN_REQUEST = 'human agent request';
export const COMPLAINT = 'complaint';

// Table order is the tie-break when two topics score the same, so the more actionable topics come first.
// Patterns are word stems/phrases, one regex per family, matched on lowercased text with typographic quotes fixed.
const WHO =
  '(a |an |the |your )?(real |live |actual |human )?(person|human|agent|representative|rep|someone|somebody|manager|supervisor|operator)';
export const TOPIC_RULES: readonly TopicRule[] = [
  {
    topic: HUMAN_REQUEST,
    patterns: [
      new RegExp(`\\b(speak|talk|transfer|connect|put)( me)?( through)? (to|with) ${WHO}\\b`, 'g'),
      /\b(real|live|actual) (person|human|agent)\b|\b(supervisor|operator|representative)\b/g,
      /\b(not|no more) (a |an |this )?(bot|robot|machine)\b|\bare you (a )?(real|human|robot|bot)\b/g,
    ],
    suggestion: 'Transfer the caller to a human agent now.',
  },
  {
    topic: 'cancellation',
    patterns: [
      /\b(cancel|unsubscrib)\w*|\bswitch(ing)? provider/g,
      /\b(close|terminate|end) (my|the) (account|contract|subscription|service|plan)\b/g,
    ],
    suggestion: 'Ask why they want to leave and offer a retention deal; if they insist, confirm the cancellation steps.',
  },
  {
    topic: 'refund',
    patterns: [/\b(refund|reimburs|chargeback)\w*|\bmoney back\b/g],
    suggestion: 'Check refund eligibility and tell the caller how long the refund will take.',
  },
  {
    topic: 'billing',
    patterns: [/\b(bill(s|ed|ing)?|(over)?charg(e|es|ed|ing)|payments?|pay|paid|fees?|statement|direct debit)\b|\binvoic\w*/g],
    suggestion: 'Offer an itemised invoice breakdown and mention payment-plan options.',
  },
  {
    topic: 'technical issue',
    patterns: [
      /\b(not|isn't|doesn't|does not|won't|can't|cannot|stopped) (work|load|connect|turn on|start)\w*/g,
      /\b(broken|errors?|crash\w*|bugs?|glitch\w*|outage|freez\w*|frozen|offline)\b/g,
      /\b(keeps?|kept) (dropping|disconnecting|cutting out|restarting|rebooting)\b|\bdropped calls?\b/g,
      /\bno (signal|internet|connection|service|dial tone)\b|\b(can't|cannot|unable to) (log ?in|sign in|access)\b/g,
    ],
    suggestion: 'Walk through basic troubleshooting, then open a support ticket if it is still unresolved.',
  },
  {
    topic: 'shipping/delivery',
    patterns: [
      /\b(ship|shipping|shipped|shipment|package|parcel|courier|tracking|my order)\b|\bdeliver\w*/g,
      /\b(hasn't|has not|never|not) (arrived|come|shown up)\b/g,
    ],
    suggestion: 'Look up the tracking details and give the caller an expected delivery date.',
  },
  {
    topic: 'appointment',
    patterns: [/\b(appointments?|(time )?slots?|consultation|(book|booking) (a|an|my))\b|\b(re)?schedul\w*/g],
    suggestion: 'Confirm the date, time and place, and offer the nearest available slots.',
  },
  {
    topic: 'account inquiry',
    patterns: [/\b(account|balance|password|username|login|profile|update my (address|details|email|phone|number))\b/g],
    suggestion: "Verify the caller's identity before sharing or changing account details.",
  },
  {
    topic: COMPLAINT,
    patterns: [
      /\b(unacceptable|ridiculous|outrageous|terrible|awful|worst|fed up)\b/g,
      /\b(complain|frustrat|disappoint|disgrac|escalat)\w*/g,
    ],
    suggestion: "Acknowledge the caller's frustration and apologise before moving on.",
  },
];

const SUGGESTION_FOR = new Map(TOPIC_RULES.map((r) => [r.topic, r.suggestion]));
const MAX_TOPICS = 5;
/** Repeated words are a weaker signal than the rule table, so they only fill the tail of the list. */
const MAX_KEYWORD_TOPICS = 2;
const MAX_SUGGESTIONS = 4;
export const MAX_SUMMARY = 240;

// Conversational filler plus common function words: what is left is what the call is about.
const STOP_WORDS = new Set(
  (
    'a about above after again all also am an and any are as at be been before being but by can could did do does ' +
    "doing don't for from get got had has have having he her here him his how i i'm i've if in into is it it's its " +
    'just know like me more most my no not now of off okay ok on once one only or other our out over please really ' +
    'right said say see she should so some still sure than thank thanks that the their them then there these they ' +
    'this those through to today too up us very want was we well were what when where which while who why will ' +
    "with would yeah yes you you're your hello hi hey bye goodbye um uh oh going need help call calling time " +
    'think actually back because cannot great good sorry told already last week month year days much thing ' +
    'things something anything everything nothing make tell give take look looking ever never even every maybe ' +
    "alright literally basically kind mean guess came come went keep keeps kept that's what's can't won't didn't isn't doesn't"
  ).split(' '),
);

function norm(text: string): string {
  return text.toLowerCase().replace(/[\u2018\u2019]/g, "'");
}

function countMatches(text: string, rule: TopicRule): number {
  return rule.patterns.reduce((n, re) => n + (text.match(re)?.length ?? 0), 0);
}

const nonEmpty = (turns: readonly Turn[]): Turn[] => turns.filter((t) => t.content.trim() !== '');

/** Topics, most relevant first: rule topics by mention count (customer words count double), then repeated content words. */
export function extractTopics(turns: readonly Turn[]): string[] {
  const ranked = TOPIC_RULES.map((rule, order) => {
    const hits = nonEmpty(turns).reduce((n, t) => n + countMatches(norm(t.content), rule) * (t.role === 'customer' ? 2 : 1), 0);
    return { topic: rule.topic, hits, order };
  })
    .filter((r) => r.hits > 0)
    .sort((a, b) => b.hits - a.hits || a.order - b.order)
    .map((r) => r.topic);

  // Words the customer keeps repeating name topics the table does not know ("router", "warranty").
  const counts = new Map<string, number>();
  for (const t of nonEmpty(turns)) {
    if (t.role !== 'customer') continue;
    for (const word of norm(t.content).match(/[a-z][a-z'-]*[a-z]/g) ?? []) {
      if (word.length < 4 || STOP_WORDS.has(word)) continue;
      if (TOPIC_RULES.some((rule) => countMatches(word, rule) > 0)) continue; // already a rule topic
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const frequent = [...counts]
    .filter(([, n]) => n >= 2)
    .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
    .map(([word]) => word)
    .slice(0, MAX_KEYWORD_TOPICS);
  return [...ranked, ...frequent].slice(0, MAX_TOPICS);
}

function informativeness(sentence: string): number {
  const text = norm(sentence);
  const ruleHits = TOPIC_RULES.reduce((n, rule) => n + countMatches(text, rule), 0);
  const content = new Set((text.match(/[a-z][a-z'-]*[a-z]/g) ?? []).filter((w) => w.length >= 3 && !STOP_WORDS.has(w)));
  return 3 * ruleHits + content.size;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}

/** Extractive summary: detected topics, then the customer's one or two most informative sentences in call order. */
export function summarize(turns: readonly Turn[], topics: readonly string[]): string {
  const all = nonEmpty(turns);
  if (all.length === 0) return '';
  const customer = all.filter((t) => t.role === 'customer');
  const source = customer.length > 0 ? customer : all; // agent-only so far: still say something
  const sentences = source
    .flatMap((t) => t.content.split(/(?<=[.!?])\s+|\n+/))
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .filter((s) => s !== '');
  const ranked = sentences
    .map((text, index) => ({ text, index, score: informativeness(text) }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  // Only table topics head the summary: a bare repeated word ("router") reads as noise there.
  const known = topics.filter((t) => SUGGESTION_FOR.has(t)).slice(0, 3);
  const prefix = known.length > 0 ? `${known.join(', ').replace(/^./, (c) => c.toUpperCase())}: ` : '';
  const best = ranked[0];
  if (best === undefined) return ''; // only punctuation/whitespace was said
  const picked = [best];
  const second = ranked[1];
  // A second sentence only if it carries at least half as much and fits whole: a cut-off one reads worse.
  const fits = second !== undefined && prefix.length + best.text.length + second.text.length < MAX_SUMMARY;
  if (fits && second.score * 2 >= best.score) picked.push(second);
  picked.sort((a, b) => a.index - b.index);
  return truncate(prefix + picked.map((p) => p.text).join(' '), MAX_SUMMARY);
}

/** Next-best actions for the agent, most urgent first: hand-off, then de-escalation, then per-topic help. */
export function suggest(topics: readonly string[], sentiment: SentimentLabel): string[] {
  const urgent = [
    ...(topics.includes(HUMAN_REQUEST) ? [HUMAN_REQUEST] : []),
    ...(topics.includes(COMPLAINT) || sentiment === 'negative' ? [COMPLAINT] : []),
  ];
  const out = [...urgent, ...topics].flatMap((topic) => SUGGESTION_FOR.get(topic) ?? []);
  if (out.length === 0) {
    out.push(
      sentiment === 'positive'
        ? 'Confirm the issue is resolved and ask whether there is anything else before closing.'
        : "Ask an open question to pin down the caller's need.",
    );
  }
  return [...new Set(out)].slice(0, MAX_SUGGESTIONS);
}

export function buildInsights(turns: readonly Turn[], sentiment: SentimentResult = conversationSentiment(turns)): Insights {
  const topics = extractTopics(turns);
  return {
    sentiment: sentiment.label,
    topics,
    summary: summarize(turns, topics),
    suggestions: nonEmpty(turns).length === 0 ? [] : suggest(topics, sentiment.label),
  };
}
