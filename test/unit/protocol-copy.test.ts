/**
 * livecalls decodes with @livekit/protocol and hands the result to livekit-server-sdk (and back): with two
 * copies installed, `instanceof` checks between them fail and types drift. The SDK pins an exact version, so
 * ours is pinned to the same one and npm keeps a single copy.
 */
import { Room as ProtocolRoom, WebhookEvent as ProtocolWebhookEvent } from '@livekit/protocol';
import { Room as SdkRoom, WebhookEvent as SdkWebhookEvent } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';

describe('@livekit/protocol', () => {
  it('is one copy: the SDK builds on the very classes livecalls imports', () => {
    // The SDK's WebhookEvent extends the protocol's (what WebhookReceiver returns is the protocol's type).
    expect(new SdkWebhookEvent()).toBeInstanceOf(ProtocolWebhookEvent);
    expect(SdkRoom).toBe(ProtocolRoom);
  });
});
