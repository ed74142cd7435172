/**
 * The server secret (LIVECALLS_SECRET): the key that seals what livecalls keeps of others' secrets (a
 * workspace's LiveKit API secret, AES-256-GCM) and signs the stream tokens it hands out. A copy of the
 * database alone therefore can neither read those secrets nor mint tokens.
 *
 * On the embedded default it is generated on first start into the data directory (`server-secret`, mode
 * 0600), so a single machine needs no setup. In scale-out every instance must share it, so it is required
 * (the configuration says so at start-up). Any string of 32 or more characters; distinct purposes use
 * distinct keys derived from it (HKDF-SHA256), never the secret itself.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SECRET_FILE = 'server-secret';
const SEALED = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

/**
 * The API key of the simulation key pair: with no LiveKit configured, livecalls accepts webhooks and signed
 * agent requests made with this key and a secret derived from the server secret, so that `livecalls
 * simulate`, run beside the server (same data directory or LIVECALLS_SECRET), works on the quick start. Real
 * LiveKit never signs with it; configuring LIVEKIT_API_KEY/SECRET turns it off.
 */
export const SIMULATION_KEY = 'livecalls-simulation';

export class ServerSecret {
  private readonly sealKey: Buffer;
  /** The key stream tokens are signed with. */
  readonly streamTokenKey: Buffer;
  /** The simulation key pair's secret (see SIMULATION_KEY). */
  readonly simulationSecret: string;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('LIVECALLS_SECRET must be at least 32 characters');
    const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', secret, 'livecalls', purpose, 32));
    this.sealKey = derive('seal-v1');
    this.streamTokenKey = derive('stream-token-v1');
    this.simulationSecret = derive('simulation-livekit-v1').toString('base64url');
  }

  /** `v1.<iv>.<ciphertext>.<tag>` (base64url); `context` (e.g. the workspace id) is bound in as associated data. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${data.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /** The sealed text; throws when it was sealed with another secret or for another context, or altered. */
  open(sealed: string, context: string): string {
    const m = SEALED.exec(sealed);
    if (!m) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(m[1] as string, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(m[3] as string, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(m[2] as string, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** The configured secret, or the data directory's (created on first use). */
export function loadServerSecret(configured: string | undefined, dataDir: string): ServerSecret {
  if (configured) return new ServerSecret(configured);
  const file = path.join(dataDir, SECRET_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process (the CLI, a second start) wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return new ServerSecret(readFileSync(file, 'utf8').trim());
}
