/**
 * Which addresses an outgoing webhook may connect to. Any workspace registers its own URLs, and the delivery
 * log shows each attempt's status and error, so an endpoint on this host or its network would let a tenant
 * probe (and reach) what only livecalls can: a cloud metadata service, a database, another tenant's LiveKit.
 * Deliveries therefore go to public addresses only, unless LIVECALLS_WEBHOOKS_ALLOW_PRIVATE says otherwise.
 *
 * Why the check is in the connection's DNS lookup: the address is judged after resolution, the moment the
 * socket is opened to it, so a name that resolved to a public address at registration (or at the previous
 * attempt) and to an internal one now is refused too; there is no window between check and connect.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * True when `address` (an IPv4 or IPv6 literal) is one deliveries may go to: ipaddr.js classifies it as
 * global `unicast`. Every special-purpose range the library keeps (IANA's registries: private, loopback,
 * link-local, carrier-grade NAT, benchmarking 198.18.0.0/15, IETF protocol assignments 192.0.0.0/24, the
 * documentation ranges, discard-only 100::/64, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo, multicast,
 * reserved, ...) is refused, since each either is not the public internet or tunnels to an address inside it.
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry; the deprecated IPv4-compatible form
 * (`::a.b.c.d`, the first 96 bits zero) is refused outright.
 */
export function isPublicAddress(address: string): boolean {
  if (isIP(address) === 0 || !ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else if (v6.parts.slice(0, 6).every((p) => p === 0)) return false;
  }
  return parsed.range() === 'unicast';
}

/** The host of a URL as an IP literal (brackets of IPv6 removed), or undefined for a name. */
export function ipLiteralOf(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? undefined : host;
}

/** The host of `url` when it is an IP literal that is not public; undefined for a name, a public address or no URL. */
export function nonPublicLiteralOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const literal = ipLiteralOf(new URL(url));
  return literal !== undefined && !isPublicAddress(literal) ? literal : undefined;
}

/** A delivery refused before connecting: its message is what the delivery log shows. */
export class NotPublicAddressError extends Error {
  override name = 'NotPublicAddressError';
  readonly code = 'ENOTPUBLIC';

  constructor(readonly address: string) {
    super(`endpoint address ${address} is not public`);
  }
}

/**
 * `dns.lookup` for `http.request`'s `lookup` option that fails with `NotPublicAddressError` when any address
 * the name resolves to is not public (all are checked: the socket may try each of them in turn).
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  const all: LookupOptions & { all: true } = { ...options, all: true };
  dnsLookup(hostname, all, (err, addresses: LookupAddress[]) => {
    if (err) {
      callback(err, '');
      return;
    }
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) {
      callback(new NotPublicAddressError(refused.address), '');
      return;
    }
    const [first] = addresses;
    if (options.all) callback(null, addresses);
    else if (first) callback(null, first.address, first.family);
    else callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
  });
};
