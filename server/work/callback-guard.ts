import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a callback may go: http(s) to a public address, by default. A client names the URL, so
 * without this the server would POST to its own loopback, the cloud's metadata service
 * (169.254.169.254) or the private network on the client's behalf, and its delivery errors would
 * map which ports answer. A URL is checked when it is submitted (scheme, credentials, literal
 * addresses in any notation, local names), and again when it is delivered: the name is resolved
 * at connect time and every address it gives must be public, so a name that points at a private
 * address (or is changed to one later) is refused. Hosts the operator allows
 * (`--allow-callback-host`) skip the address checks.
 */

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24],
  ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64], ['2001::', 23],
] as const) NON_PUBLIC.addSubnet(net, bits, 'ipv6');

/** Whether an address is one a callback may reach without the operator's leave. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NON_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const lower = address.toLowerCase();
  // IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d): the IPv4 address decides
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower) ?? hexEmbedded(lower);
  if (embedded) return isPublicAddress(embedded[1]!);
  return !NON_PUBLIC.check(address, 'ipv6');
}

/** ::ffff:7f00:1 (mapped IPv4 written in hex) as its dotted quad. */
function hexEmbedded(a: string): [string, string] | null {
  const m = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (!m) return null;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [a, `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`];
}

export class CallbackGuard {
  private readonly allowed: Set<string>;

  constructor(allowHosts: readonly string[] = []) {
    this.allowed = new Set(allowHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  }

  private isAllowed(host: string): boolean {
    return this.allowed.has(host.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  /** Why a callback URL is refused at submission, or null. The URL parser has already turned decimal, hex and octal IPv4 forms into dotted quads. */
  refuse(raw: string): string | null {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      // the refusal is the answer: the caller turns it into a 400 naming callback_url
      return 'is not a URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be http:// or https://';
    if (url.username || url.password) return 'must not carry credentials (user:password@); sign-in is the X-Tosia-Signature header';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (this.isAllowed(host)) return null;
    if (isIP(host)) return isPublicAddress(host) ? null : `names ${host}, which is not a public address (the operator may allow it: --allow-callback-host ${host})`;
    const name = host.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || /\.(localhost|local|internal|home\.arpa|lan)$/.test(name)) {
      return `names ${host}, which is not a public host name (the operator may allow it: --allow-callback-host ${host})`;
    }
    return null;
  }

  /**
   * A lookup for the delivery's socket: the name is resolved when the connection is made, and
   * refused unless every address it gives is public (or the host is allowed).
   */
  lookup(host: string) {
    const allowed = this.isAllowed(host);
    return (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => !isPublicAddress(a.address));
        if (bad && !allowed) {
          const e = new Error(`${hostname} resolves to ${bad.address}, which is not a public address`) as NodeJS.ErrnoException;
          e.code = 'E_CALLBACK_ADDRESS';
          return callback(e, []);
        }
        if ((options as { all?: boolean }).all) return callback(null, list);
        callback(null, list[0]!.address, list[0]!.family);
      });
    };
  }
}
