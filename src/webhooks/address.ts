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
import { BlockList, isIP, type LookupFunction } from 'node:net';

const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, and the deprecated IPv4-compatible forms
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // the former site-local
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/**
 * True when `address` (an IPv4 or IPv6 literal) is one deliveries may go to. IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.5`, `::ffff:a00:5`) are judged as the IPv4 address they carry: BlockList does that.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
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
