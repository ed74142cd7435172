import { describe, expect, it } from 'vitest';
import { asksForHuman, callState, complains, isFiller } from '../../../src/analysis/call-state.ts';
import type { Role, Turn } from '../../../src/analysis/types.ts';

const turn = (role: Role, content: string): Turn => ({ role, content, at: 0 });
const customer = (content: string) => turn('customer', content);
const agent = (content: string) => turn('agent', content);

describe('call state', () => {
  it('resolved once the agent confirms and the customer only acknowledges', () => {
    expect(callState([customer('Can I move my booking to Friday?'), agent('Done, your booking is now confirmed for Friday.')])).toBe(
      'resolved',
    );
    expect(callState([customer('Block my card please.'), agent("I've blocked it."), customer('Great, thanks!')])).toBe('resolved');
  });

  it('a new request after a resolution reopens the call; an unanswered one is waiting', () => {
    const turns = [customer('Block my card please.'), agent("I've blocked it."), customer('And can you send a new one to my office?')];
    expect(callState(turns)).toBe('waiting');
    expect(callState([...turns, agent('Let me check the address we have.')])).toBe('in progress');
  });

  it('unresolved when the agent says it cannot help, even politely', () => {
    expect(callState([customer('A table for ten tonight?'), agent("I'm afraid we have no tables left tonight.")])).toBe('unresolved');
    expect(callState([customer('Hi'), agent('I am sorry for the wait, how can I help?')])).toBe('in progress');
  });

  it('transferred from the agent’s words or from the call itself', () => {
    expect(callState([agent('Please hold while I connect you to a specialist.')])).toBe('transferred');
    expect(callState([agent('Can you tell me what you need so I can help?')])).toBe('in progress');
    expect(callState([agent("I'll transfer you to a colleague now.")])).toBe('transferred');
    expect(callState([customer('hello')], { transferRequested: true })).toBe('transferred');
  });
});

describe('narrow detectors', () => {
  it('asks for a human only when the customer asks', () => {
    for (const yes of ['Can I speak to a manager?', 'Put me through to a real person', 'I want a human', "I don't want a robot"]) {
      expect(asksForHuman(yes), yes).toBe(true);
    }
    for (const no of [
      'The manager said it was fine',
      'I need someone to fix my boiler',
      'my agent number is 12',
      'What does a person need to open an account?',
    ]) {
      expect(asksForHuman(no), no).toBe(false);
    }
  });

  it('explicit complaints, and fillers', () => {
    expect(complains('I would like to make a formal complaint')).toBe(true);
    expect(complains('No complaints, all good')).toBe(false);
    expect(isFiller('Okay, thanks!')).toBe(true);
    expect(isFiller('No, that is all')).toBe(false);
    expect(isFiller("no that's all")).toBe(true);
    expect(isFiller('Okay, but where is my parcel?')).toBe(false);
  });
});
