/**
 * Scripted conversations for the call simulator. Varied in topic and tone so the live view shows positive,
 * negative and neutral sentiment, a transfer request, and calls of different lengths.
 */

export interface ScriptTurn {
  role: 'agent' | 'customer';
  text: string;
  /** The agent worker reports a transfer request right after this turn, with this reason. */
  transfer?: string;
}

export interface Script {
  id: string;
  agentName: string;
  turns: readonly ScriptTurn[];
}

const a = (text: string): ScriptTurn => ({ role: 'agent', text });
const c = (text: string, transfer?: string): ScriptTurn => (transfer ? { role: 'customer', text, transfer } : { role: 'customer', text });

export const SCRIPTS: readonly Script[] = [
  {
    id: 'billing-question',
    agentName: 'Billing Assistant',
    turns: [
      a('Hi, thanks for calling. How can I help you today?'),
      c('Hi! I just have a quick question about my latest bill.'),
      a('Of course, happy to help. What would you like to know?'),
      c('There is a charge of twelve dollars I do not recognise.'),
      a('That is the annual service fee, billed every March.'),
      c('Oh, that makes sense. Thank you, that was easy!'),
      a('You are welcome. Is there anything else I can do for you?'),
      c('No, that is all. Great service, thanks a lot!'),
    ],
  },
  {
    id: 'angry-cancellation',
    agentName: 'Support Agent',
    turns: [
      a('Hello, you are through to support. What can I do for you?'),
      c('I want to cancel my subscription. Right now.'),
      a('I am sorry to hear that. May I ask what went wrong?'),
      c('The service has been terrible for weeks and nobody ever fixes anything.'),
      a('I understand your frustration. I can offer you a month free while we fix it.'),
      c('No. I am sick of this. Just cancel it, this is ridiculous.'),
      a('Understood. I have cancelled your subscription effective today.'),
      c('Fine. Awful experience, honestly.'),
    ],
  },
  {
    id: 'technical-issue-resolved',
    agentName: 'Technical Support',
    turns: [
      a('Hi, this is technical support. What seems to be the problem?'),
      c('My internet keeps dropping every few minutes, it is really annoying.'),
      a('Sorry about that. Could you restart your router for me?'),
      c('Okay, restarting it now.'),
      a('Thanks. I have also pushed a firmware update to your device.'),
      c('It is back up, and the connection looks stable.'),
      a('Great. It should stay stable now. Anything else?'),
      c('No, it works perfectly now. Thank you so much for the help!'),
      a('Glad I could help. Have a great day!'),
      c('You too, bye!'),
    ],
  },
  {
    id: 'complaint-escalation',
    agentName: 'Support Agent',
    turns: [
      a('Hello, how can I help you today?'),
      c('My order arrived broken, and this is the second time.'),
      a('I am sorry about that. I can send a replacement right away.'),
      c('I do not want another replacement. This is unacceptable.'),
      a('I understand. I could also offer a partial refund.'),
      c('No. I am really upset. I want to talk to a human, now.', 'customer asked for a human agent'),
      a('Of course. I am transferring you to a member of our team.'),
      c('Thank you. Finally.'),
    ],
  },
  {
    id: 'appointment-booking',
    agentName: 'Scheduling Assistant',
    turns: [
      a('Good morning! Would you like to book an appointment?'),
      c('Yes please, I need a check-up next week.'),
      a('I have Tuesday at 10 am or Thursday at 2 pm. Which suits you?'),
      c('Thursday at 2 works well for me.'),
      a('Done. You are booked for Thursday at 2 pm. I will text you a confirmation.'),
      c('Perfect, thank you, that is really helpful.'),
    ],
  },
  {
    id: 'account-inquiry',
    agentName: 'Customer Service',
    turns: [
      a('Hello, customer service. How can I help?'),
      c('I would like to check the email address on my account.'),
      a('Sure. For security, can you confirm your date of birth?'),
      c('It is the fourth of June, 1985.'),
      a('Thank you. The email on file ends in example dot com.'),
      c('Okay. Can you update it to my work address?'),
      a('I have sent a verification link to the new address.'),
      c('Okay, I will check it later.'),
    ],
  },
  {
    id: 'refund-request',
    agentName: 'Billing Assistant',
    turns: [
      a('Hi, you are through to billing. What can I do for you?'),
      c('I was charged twice for the same order and I want a refund.'),
      a('I am sorry about the double charge. Let me look into it.'),
      c('Please do, it is frustrating to see that on my card.'),
      a('I see it. I have refunded the duplicate payment of 49 dollars.'),
      c('How long will it take to show up?'),
      a('Three to five business days, depending on your bank.'),
      c('Alright, thanks for sorting it out quickly.'),
      a('My pleasure. Sorry again for the trouble.'),
      c('No problem, have a good day.'),
    ],
  },
  {
    id: 'delivery-delay',
    agentName: 'Sales Agent',
    turns: [
      a('Hello, how can I help you today?'),
      c('My package was supposed to arrive three days ago and it still is not here.'),
      a('I apologise for the delay. Can you give me the order number?'),
      c('It is 48213. I am getting pretty annoyed, I needed it for a birthday.'),
      a('I see it was held at the depot because of the weather. It is out for delivery today.'),
      c('Today? Are you sure this time?'),
      a('Yes, it is on the truck now. I have also refunded your shipping fee.'),
      c('Okay, that helps a bit. Thanks.'),
      a('You are welcome. Anything else I can help with?'),
      c('No, that is it.'),
      a('Thanks for your patience. Goodbye!'),
      c('Bye.'),
    ],
  },
];

export const CUSTOMER_NAMES: readonly string[] = [
  'John Doe',
  'Maria Garcia',
  'Wei Chen',
  'Aisha Khan',
  "Liam O'Brien",
  'Sofia Rossi',
  'Noah Williams',
  'Emma Johnson',
  'Kenji Tanaka',
  'Fatima Diallo',
];

const AREA_CODES: readonly string[] = ['212', '312', '415', '512', '617', '646', '702', '718', '206', '305'];

export interface Scenario {
  script: Script;
  customerName: string;
  /** E.164 */
  customerPhone: string;
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** 555-01xx numbers are reserved for fiction in North America, so no real person gets "called". */
export function fakePhone(random: () => number = Math.random): string {
  const line = String(Math.floor(random() * 100)).padStart(2, '0');
  return `+1${pick(AREA_CODES, random)}55501${line}`;
}

export function pickScenario(random: () => number = Math.random): Scenario {
  return { script: pick(SCRIPTS, random), customerName: pick(CUSTOMER_NAMES, random), customerPhone: fakePhone(random) };
}
