/**
 * Every intent the model knows -> the topic a supervisor reads on the wallboard, or no topic.
 *
 * Why a hand-written table: 227 fine-grained intents are too many to read at a glance, and the two data sets
 * name the same need differently ("clinc:report_lost_card", "banking77:lost_or_stolen_card"). Grouping them is
 * a product decision, so it is written down here, reviewed like code, and a test checks that it covers every
 * label of the shipped model exactly once.
 *
 * No topic (NO_TOPIC) for what a caller says that is not a reason to call a service line: small talk and
 * conversation control ("hello", "thanks", "yes", "what is your name", "repeat that"), and personal-assistant
 * requests from CLINC150 (weather, timers, music, recipes, maths). The model still recognises them, which keeps
 * them from being forced onto a real topic.
 */

import type { IntentModel } from './model.ts';

export const TOPICS = {
  billing: [
    'clinc:bill_balance',
    'clinc:bill_due',
    'clinc:min_payment',
    'clinc:international_fees',
    'banking77:extra_charge_on_statement',
    'banking77:card_payment_fee_charged',
    'banking77:transfer_fee_charged',
    'banking77:top_up_by_bank_transfer_charge',
    'banking77:top_up_by_card_charge',
    'banking77:cash_withdrawal_charge',
    'banking77:exchange_charge',
    'banking77:transaction_charged_twice',
    'livecalls:billing_question',
  ],
  payment: [
    'clinc:pay_bill',
    'banking77:pending_card_payment',
    'banking77:reverted_card_payment?',
    'banking77:declined_card_payment',
    'banking77:card_acceptance',
    'banking77:apple_pay_or_google_pay',
  ],
  refund: ['banking77:request_refund', 'banking77:Refund_not_showing_up'],
  'lost or stolen card': ['clinc:report_lost_card', 'banking77:lost_or_stolen_card'],
  'card problem': [
    'clinc:card_declined',
    'clinc:damaged_card',
    'clinc:expiration_date',
    'clinc:pin_change',
    'banking77:card_not_working',
    'banking77:contactless_not_working',
    'banking77:virtual_card_not_working',
    'banking77:pin_blocked',
    'banking77:card_swallowed',
    'banking77:card_about_to_expire',
    'banking77:activate_my_card',
    'banking77:change_pin',
    'banking77:card_linking',
    'banking77:visa_or_mastercard',
    'banking77:supported_cards_and_currencies',
  ],
  'new card': [
    'clinc:new_card',
    'clinc:replacement_card_duration',
    'clinc:application_status',
    'banking77:card_arrival',
    'banking77:card_delivery_estimate',
    'banking77:get_physical_card',
    'banking77:order_physical_card',
    'banking77:getting_spare_card',
    'banking77:getting_virtual_card',
    'banking77:get_disposable_virtual_card',
    'banking77:disposable_card_limits',
  ],
  'money transfer': [
    'clinc:transfer',
    'banking77:cancel_transfer',
    'banking77:declined_transfer',
    'banking77:pending_transfer',
    'banking77:failed_transfer',
    'banking77:transfer_not_received_by_recipient',
    'banking77:transfer_timing',
    'banking77:transfer_into_account',
    'banking77:receiving_money',
    'banking77:beneficiary_not_allowed',
    'banking77:balance_not_updated_after_bank_transfer',
  ],
  'top-up': [
    'banking77:automatic_top_up',
    'banking77:pending_top_up',
    'banking77:top_up_limits',
    'banking77:top_up_reverted',
    'banking77:topping_up_by_card',
    'banking77:top_up_failed',
    'banking77:top_up_by_cash_or_cheque',
    'banking77:verify_top_up',
    'banking77:balance_not_updated_after_cheque_or_cash_deposit',
  ],
  'cash withdrawal': [
    'banking77:pending_cash_withdrawal',
    'banking77:wrong_amount_of_cash_received',
    'banking77:atm_support',
    'banking77:declined_cash_withdrawal',
  ],
  'exchange rate': [
    'clinc:exchange_rate',
    'banking77:exchange_rate',
    'banking77:card_payment_wrong_exchange_rate',
    'banking77:wrong_exchange_rate_for_cash_withdrawal',
    'banking77:exchange_via_app',
    'banking77:fiat_currency_support',
  ],
  'suspicious transaction': [
    'clinc:report_fraud',
    'clinc:freeze_account',
    'banking77:compromised_card',
    'banking77:card_payment_not_recognised',
    'banking77:cash_withdrawal_not_recognised',
    'banking77:direct_debit_payment_not_recognised',
  ],
  'account access': ['clinc:account_blocked', 'banking77:passcode_forgotten', 'banking77:lost_or_stolen_phone', 'livecalls:login_problem'],
  'identity verification': [
    'banking77:why_verify_identity',
    'banking77:unable_to_verify_identity',
    'banking77:verify_my_identity',
    'banking77:verify_source_of_funds',
  ],
  'account details': [
    'clinc:routing',
    'clinc:order_checks',
    'banking77:edit_personal_details',
    'banking77:age_limit',
    'banking77:country_support',
  ],
  balance: ['clinc:balance', 'clinc:transactions', 'clinc:spending_history'],
  'credit and interest': [
    'clinc:credit_score',
    'clinc:improve_credit_score',
    'clinc:credit_limit',
    'clinc:credit_limit_change',
    'clinc:apr',
    'clinc:interest_rate',
  ],
  rewards: ['clinc:redeem_rewards', 'clinc:rewards_balance'],
  cancellation: ['clinc:cancel_reservation', 'banking77:terminate_account', 'livecalls:cancel_service'],
  booking: [
    'clinc:restaurant_reservation',
    'clinc:confirm_reservation',
    'clinc:accept_reservations',
    'clinc:book_flight',
    'clinc:book_hotel',
    'clinc:car_rental',
    'clinc:schedule_maintenance',
    'clinc:uber',
    'livecalls:book_transport',
    'livecalls:find_accommodation',
    'livecalls:book_taxi',
  ],
  travel: [
    'clinc:flight_status',
    'clinc:international_visa',
    'clinc:travel_alert',
    'clinc:travel_notification',
    'clinc:travel_suggestion',
    'clinc:vaccines',
    'clinc:lost_luggage',
    'clinc:carry_on',
    'clinc:plug_type',
  ],
  'order and delivery': ['clinc:order_status', 'clinc:order', 'livecalls:order_not_arrived', 'livecalls:delivery_area'],
  'restaurant information': ['clinc:restaurant_reviews', 'clinc:how_busy', 'clinc:restaurant_suggestion', 'livecalls:find_restaurant'],
  'vehicle service': [
    'clinc:oil_change_when',
    'clinc:oil_change_how',
    'clinc:tire_pressure',
    'clinc:tire_change',
    'clinc:jump_start',
    'clinc:last_maintenance',
  ],
  insurance: ['clinc:insurance', 'clinc:insurance_change'],
  'payroll and time off': [
    'clinc:pto_request_status',
    'clinc:pto_balance',
    'clinc:pto_request',
    'clinc:pto_used',
    'clinc:payday',
    'clinc:w2',
    'clinc:taxes',
    'clinc:income',
    'clinc:rollover_401k',
    'clinc:direct_deposit',
  ],
  'technical problem': ['clinc:sync_device', 'clinc:reset_settings', 'clinc:find_phone', 'livecalls:technical_problem'],
} as const satisfies Record<string, readonly string[]>;

export type Topic = keyof typeof TOPICS;

export const NO_TOPIC: readonly string[] = [
  // small talk and conversation control
  ...['greeting', 'goodbye', 'thank_you', 'yes', 'no', 'maybe', 'cancel', 'repeat', 'what_is_your_name'],
  ...['who_made_you', 'meaning_of_life', 'who_do_you_work_for', 'do_you_have_pets', 'what_are_your_hobbies'],
  ...['fun_fact', 'where_are_you_from', 'tell_joke', 'are_you_a_bot', 'how_old_are_you', 'what_can_i_ask_you'],
  ...['change_speed', 'user_name', 'whisper_mode', 'change_volume', 'change_language', 'change_accent'],
  ...['change_user_name', 'change_ai_name'],
  // personal-assistant requests
  ...['weather', 'alarm', 'date', 'share_location', 'timer', 'make_call', 'calculator', 'definition'],
  ...['measurement_conversion', 'flip_coin', 'spelling', 'time', 'roll_dice', 'text', 'translate', 'timezone'],
  ...['what_song', 'play_music', 'todo_list_update', 'reminder', 'reminder_update', 'calendar_update'],
  ...['update_playlist', 'shopping_list', 'calendar', 'next_song', 'todo_list', 'shopping_list_update'],
  ...['smart_home', 'current_location', 'traffic', 'gas', 'mpg', 'distance', 'directions', 'gas_type'],
  ...['next_holiday', 'meeting_schedule', 'schedule_meeting', 'food_last', 'ingredients_list', 'calories'],
  ...['nutrition_info', 'recipe', 'meal_suggestion', 'ingredient_substitution', 'cook_time'],
].map((intent) => `clinc:${intent}`);

const TOPIC_OF = new Map<string, Topic | null>([
  ...Object.entries(TOPICS).flatMap(([topic, intents]) => intents.map((i) => [i, topic as Topic] as const)),
  ...NO_TOPIC.map((i) => [i, null] as const),
]);

/** The topic of an intent; null for small talk, assistant requests and intents the table does not know. */
export function topicOf(intent: string): Topic | null {
  return TOPIC_OF.get(intent) ?? null;
}

/** Every intent the table names, with or without a topic (for the coverage test). */
export function mappedIntents(): string[] {
  return [...TOPIC_OF.keys()];
}

/** "clinc:report_lost_card" -> "report lost card": the intent in words, for the summary. */
export function intentWords(intent: string): string {
  return (intent.split(':')[1] ?? intent).replace(/\?$/, '').replace(/_/g, ' ').toLowerCase();
}

export interface TopicPrediction {
  topic: Topic;
  /** The most probable intent of the topic. */
  intent: string;
  /** Probability of the topic: the summed probabilities of its intents. */
  confidence: number;
}

interface LabelTopics {
  names: Topic[];
  /** Per model label: index into names, or -1 for no topic. */
  index: Int16Array;
}

const labelTopics = new WeakMap<IntentModel, LabelTopics>();

function topicsOfLabels(model: IntentModel): LabelTopics {
  let known = labelTopics.get(model);
  if (known === undefined) {
    const names = [...new Set(model.labels.map(topicOf).filter((t) => t !== null))];
    const index = Int16Array.from(model.labels, (l) => {
      const t = topicOf(l);
      return t === null ? -1 : names.indexOf(t);
    });
    known = { names, index };
    labelTopics.set(model, known);
  }
  return known;
}

/**
 * The topic of one utterance, or null. Why topics are decided on summed probabilities: the supervisor reads
 * topics, and a request the data sets split over near twins ("book a train": car rental 0.2, book flight
 * 0.2) is a clear booking even when no single intent is sure. The competitor is everything without a topic
 * (out of scope, small talk, assistant requests), and the model's tuned threshold still applies to the sum.
 */
export function predictTopic(model: IntentModel, text: string): TopicPrediction | null {
  const p = model.probabilities(text);
  if (p === null) return null;
  const { names, index } = topicsOfLabels(model);
  const sums = new Float64Array(names.length);
  let none = 0;
  for (let c = 0; c < p.length; c++) {
    const t = index[c]!;
    if (t < 0) none += p[c]!;
    else sums[t]! += p[c]!;
  }
  let best = -1;
  for (let t = 0; t < sums.length; t++) if (best < 0 || sums[t]! > sums[best]!) best = t;
  const confidence = best < 0 ? 0 : sums[best]!;
  if (best < 0 || confidence <= none || confidence < model.header.threshold) return null;
  let intent = -1;
  for (let c = 0; c < p.length; c++) if (index[c] === best && (intent < 0 || p[c]! > p[intent]!)) intent = c;
  return { topic: names[best]!, intent: model.labels[intent] ?? '', confidence };
}
