/**
 * What has happened in the call so far, from the turns alone: resolved, unresolved, transferred, waiting for
 * the agent, or still in progress.
 *
 * Why phrases here and not the intent model: the intent data sets are what callers ask, not what agents answer.
 * An agent's outcome is said in a small, stable set of service phrases ("your booking is confirmed",
 * "I'm sorry, we don't have...", "let me transfer you"), so a narrow phrase list is precise. Only the agent's
 * turns are read for outcomes; the customer's words never decide them, except that a customer who still has
 * something to say after the last agent turn is waiting.
 */
import type { CallContext, CallState, Turn } from './types.ts';

const norm = (text: string) => text.toLowerCase().replace(/[\u2018\u2019]/g, "'");

const TRANSFERRED = [
  /\b(i|we|let me)('ll| will|'m going to| am going to|'m| am)? (now )?(transfer|connect|put) (you|your call)\b/,
  /\b(transferring|connecting) you\b|\bputting you through\b|\bhand(ing)? you over\b/,
];

const DONE =
  '(confirmed|booked|reserved|scheduled|cancell?ed|blocked|frozen|refunded|processed|sent|issued|ordered|' +
  'updated|reset|unlocked|activated|reversed|resolved|fixed|completed|approved|credited|submitted|changed)';
const RESOLVED = [
  new RegExp(`\\b(is|are|has been|have been|was|were|now) (now |all |successfully )?${DONE}\\b`),
  new RegExp(`\\b(i've|i have|we've|we have) (now |just |successfully )?${DONE}\\b`),
  /\b(you're|you are) all set\b|\ball done\b|\btaken care of\b|\bthat's done\b/,
  // "Booked. Your reference is ABC123.": a reference or confirmation number is handed out once it is done.
  /^(booked|reserved|confirmed|done)\b|\b(reference|confirmation|booking|ticket|order) (number|code|id )?(is|will be)\b/,
];

const FAILED = [
  /\b(sorry|unfortunately|i'm afraid|i am afraid)\b.*\b(there (is|are) no|there's no|no (\w+ ){0,3}(available|availability|left|match(es|ing)?|results?|options?)|nothing (available|matching|like that))\b/,
  /\b(sorry|unfortunately|i'm afraid|i am afraid)\b.*\b(can't|cannot|can not|couldn't|could not|don't|do not|doesn't|does not|won't|isn't|aren't|unable|not able|no longer|not possible|no (availability|tables?|rooms?|seats?|slots?))\b/,
  /\b(unable to|not able to|no way to|there's no|there is no) (help|do|find|process|complete|book|offer|change|cancel|locate)\b/,
];

/** Acknowledgements and small talk: a customer saying only this is not waiting for anything. */
const FILLER =
  /^(?:(?:ok(?:ay)?|alright|all right|right|sure|yes|yeah|yep|no problem|not a problem|no worries|no|nope|fine|great|perfect|good|cool|thanks?|thank you(?: very much| so much)?|cheers|bye|goodbye|hello|hi|hey|uh|um|hmm|mm|got it|i see|sounds good|that's (?:it|all|great|fine|perfect)|no that's (?:it|all))[\s,.!?]*)+$/;

/** Taking leave or settling up: "thanks anyway, bye", "that's all I need". Not a new request. */
const CLOSING =
  /\b(bye|goodbye|good bye|that's all|that is all|that will be all|nothing else|have a (nice|good|great) (day|one|evening))\b/;

/** An agent turn that says the request was done, and says nothing failed ("booked, your reference is…"). */
export function resolvesCleanly(text: string): boolean {
  const t = norm(text);
  return matchesAny(RESOLVED, t) && !matchesAny(FAILED, t);
}

export function isFiller(text: string): boolean {
  const t = norm(text).trim();
  return t === '' || FILLER.test(t);
}

const matchesAny = (res: readonly RegExp[], text: string) => res.some((re) => re.test(text));

/** The state of the call after these turns (oldest first). */
export function callState(turns: readonly Turn[], context: CallContext = {}): CallState {
  const spoken = turns.filter((t) => t.content.trim() !== '');
  if (context.transferRequested) return 'transferred';
  let outcome: CallState | null = null;
  let outcomeAt = -1;
  spoken.forEach((t, i) => {
    if (t.role !== 'agent') return;
    const text = norm(t.content);
    // One turn can apologise and then succeed ("sorry for the wait, your card is now blocked"): success and
    // hand-off win over an apology in the same turn.
    const found = matchesAny(TRANSFERRED, text)
      ? 'transferred'
      : matchesAny(RESOLVED, text)
        ? 'resolved'
        : matchesAny(FAILED, text)
          ? 'unresolved'
          : null;
    if (found !== null) {
      outcome = found;
      outcomeAt = i;
    }
  });
  const last = spoken[spoken.length - 1];
  if (last === undefined) return 'in progress';
  const asks = (t: Turn) => t.role === 'customer' && !isFiller(t.content) && !CLOSING.test(norm(t.content));
  const customerSinceOutcome = spoken.slice(outcomeAt + 1).filter(asks);
  // A customer who speaks after the last agent turn, with more than an acknowledgement or a goodbye, waits for an answer.
  if (asks(last)) return 'waiting';
  if (outcome === 'transferred') return 'transferred';
  // A new request after a resolution reopens the call.
  if (outcome !== null && customerSinceOutcome.length === 0) return outcome;
  return 'in progress';
}

const WHO =
  '(?:a |an |the |your |some )?(?:real |live |actual |human )?(?:person|human|agent|representative|rep|someone|somebody|manager|supervisor|operator)';
const HUMAN = [
  new RegExp(`\\b(?:speak|talk|transfer|connect|put)(?: me)?(?: through)? (?:to|with) ${WHO}\\b`),
  // "someone" only after a verb of speaking: "I need someone to fix the boiler" is not a hand-off.
  /\b(?:want|need|get|give|can i have|let me have)(?: me)? (?:a |an |the |your )?(?:real |live |actual |human )?(?:person|human|agent|representative|manager|supervisor|operator)\b/,
  /\b(?:real|live|actual) (?:person|human|agent)\b/,
  /\b(?:not|no more|stop talking to|don't want) (?:a |an |this |the )?(?:bot|robot|machine)\b/,
];

/**
 * Whether the customer explicitly asks for a person. Kept narrow on purpose (a hand-off request raises an alert
 * on the wallboard): "the manager told me last week" is not a request, "let me talk to a manager" is.
 */
export function asksForHuman(text: string): boolean {
  return matchesAny(HUMAN, norm(text));
}

const COMPLAINING =
  /\b(?:make|file|lodge|raise|register) (?:a |an |my )?(?:formal )?complaint\b|\bi(?:'d| would)? (?:like|want) to complain\b/;

/** An explicit complaint ("I want to make a complaint"); anger without the word is the sentiment's job. */
export function complains(text: string): boolean {
  return COMPLAINING.test(norm(text));
}
