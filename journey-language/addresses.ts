/**
 * Which hosts a webhook may not reach: loopback, private, link-local, unique-local, shared (CGNAT),
 * unspecified and cloud-metadata addresses, spelled any way. Pure string and number logic (no
 * node:net, no DNS) so the journey language can check a literal host at publish and the worker can
 * check each address DNS returned, with one classifier. Hosts are read through WHATWG `new URL()`,
 * which already turns `0x7f000001`, `2130706433`, `0177.1` or `127.1` into `127.0.0.1` and
 * `[::ffff:127.0.0.1]` into `[::ffff:7f00:1]`; the IPv6 reader also takes embedded IPv4 tails.
 */

export type InternalAddressKind =
  | 'unspecified' | 'loopback' | 'private' | 'shared' | 'link_local' | 'unique_local' | 'metadata' | 'reserved';

const DESCRIPTIONS: Record<InternalAddressKind, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private network address',
  shared: 'a carrier-grade NAT address (100.64.0.0/10)',
  link_local: 'a link-local address',
  unique_local: 'a unique-local IPv6 address (fc00::/7)',
  metadata: 'a cloud metadata endpoint',
  reserved: 'a reserved, multicast or IPv4-compatible address',
};

/** Host names that always mean this machine or the cloud's metadata service. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** Four octets of a dotted-decimal IPv4 address, or undefined. */
export function parseIPv4(text: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const octets = match?.slice(1).map(Number);
  return octets?.every((o) => o <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address (brackets, `::`, a zone id and an IPv4 tail allowed), or undefined. */
export function parseIPv6(text: string): number[] | undefined {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (s.includes('%')) s = s.slice(0, s.indexOf('%'));
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  if (s.includes('.')) {
    const cut = s.lastIndexOf(':') + 1;
    const v4 = parseIPv4(s.slice(cut));
    if (!v4) return undefined;
    s = `${s.slice(0, cut)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...tail].some(Number.isNaN)) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : undefined;
}

function ipv4Kind([a, b, c, d]: number[]): InternalAddressKind | undefined {
  if (a === 169 && b === 254 && c === 169 && d === 254) return 'metadata'; // AWS, GCP, Azure, OpenStack…
  if (a === 168 && b === 63 && c === 129 && d === 16) return 'metadata'; // Azure's wire server
  if (a === 0) return 'unspecified'; // 0.0.0.0/8, "this network"
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b! >= 64 && b! <= 127) return 'shared';
  if (a === 169 && b === 254) return 'link_local';
  if ((a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19)) || a! >= 224) return 'reserved';
  return undefined;
}

function ipv6Kind(g: number[]): InternalAddressKind | undefined {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const ipv4At = (hi: number, lo: number) => ipv4Kind([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and -translated (::ffff:0:a.b.c.d): the IPv4 address decides.
  if ((zeroUpTo(5) && g[5] === 0xffff) || (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0)) return ipv4At(g[6]!, g[7]!);
  if (zeroUpTo(6)) return ipv4At(g[6]!, g[7]!) ?? 'reserved'; // IPv4-compatible (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4At(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return ipv4At(g[1]!, g[2]!); // 6to4 carries an IPv4 address
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'metadata'; // AWS
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique_local';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link_local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return 'reserved'; // multicast
  return undefined;
}

/**
 * The kind of internal address a host names, or undefined for a public one. Takes a URL's
 * hostname (`127.0.0.1`, `[::1]`, `localhost`, `metadata.google.internal`) or an address as DNS
 * returns it (`::1`). Other DNS names are undefined here: they are checked once resolved.
 */
export function internalAddressKind(host: string): InternalAddressKind | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name.includes(':')) {
    const groups = parseIPv6(name);
    return groups && ipv6Kind(groups);
  }
  const octets = parseIPv4(name);
  if (octets) return ipv4Kind(octets);
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  return METADATA_NAMES.has(name) ? 'metadata' : undefined;
}

export function describeAddressKind(kind: InternalAddressKind): string {
  return DESCRIPTIONS[kind];
}

/**
 * One operator allow-list entry (`host` or `host:port`, `[v6]:port` for IPv6) in the form a URL
 * is compared with: lowercase, IP spellings normalised by WHATWG URL, an explicit port kept (even
 * the scheme's default). Undefined when the entry is not a host.
 */
export function normaliseHostEntry(entry: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
  if (!match || (match[2] !== undefined && Number(match[2]) > 65535)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${match[1]}/`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
  return match[2] === undefined ? hostname : `${hostname}:${Number(match[2])}`;
}

/** A comma-separated allow-list: its normalised entries, and the entries that are not hosts. */
export function parseHostAllowList(text: string): { hosts: string[]; invalid: string[] } {
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  const hosts: string[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const host = normaliseHostEntry(entry);
    if (host) hosts.push(host);
    else invalid.push(entry);
  }
  return { hosts, invalid };
}

/** Whether the URL's host (any port) or host:port (port explicit or the scheme's default) is allowed. */
export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  if (!allowedHosts.length) return false;
  const hostname = url.hostname.replace(/\.$/, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowedHosts.includes(hostname) || allowedHosts.includes(`${hostname}:${port}`);
}

/**
 * Why a webhook may not go to this URL as written (its host is a literal internal address or a
 * name that always means one), or undefined. A host on the operator's allow-list is never refused.
 */
export function webhookTargetRefusal(url: string, allowedHosts: readonly string[] = []): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined; // not a URL: the schema says so
  }
  if (isAllowedHost(target, allowedHosts)) return undefined;
  const kind = internalAddressKind(target.hostname);
  return kind && refusalMessage(target.hostname, kind);
}

export function refusalMessage(host: string, kind: InternalAddressKind): string {
  return `${host} is ${describeAddressKind(kind)}: webhooks may not reach internal addresses unless the host is in WEBHOOK_ALLOWED_HOSTS`;
}
