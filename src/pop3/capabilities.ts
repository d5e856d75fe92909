// Parses the CAPA listing (RFC 2449 §5-6): one capability per line, a name then arguments, names
// case-insensitive. Also the SASL list (RFC 5034 §3), STLS (RFC 2595 §4) and UTF8 (RFC 6856 §2).

export interface Capabilities {
  /** The raw capability lines as the server sent them. */
  readonly names: readonly string[];
  /** Case-insensitive lookup by capability name (the first word of a line). */
  has(name: string): boolean;
  /** SASL mechanisms, upper-cased, in the server's order. */
  readonly sasl: readonly string[];
  readonly pipelining: boolean;
  readonly uidl: boolean;
  readonly top: boolean;
  readonly user: boolean;
  readonly stls: boolean;
  readonly respCodes: boolean;
  readonly authRespCode: boolean;
  readonly utf8: boolean;
  /** LOGIN-DELAY seconds, when given (RFC 2449 §6.8). */
  readonly loginDelaySeconds?: number;
  /** EXPIRE argument as sent: a number of days, "NEVER", possibly followed by "USER" (RFC 2449 §6.7). */
  readonly expire?: string;
  readonly implementation?: string;
}

/** The capabilities a server has when CAPA is not supported at all (RFC 2449 §5: assume nothing). */
export const NO_CAPABILITIES: Capabilities = parseCapabilities([]);

export function parseCapabilities(lines: readonly string[]): Capabilities {
  const names = lines.map((line) => line.trim()).filter((line) => line.length > 0);
  const byName = new Map<string, string[]>();
  for (const line of names) {
    const [name, ...args] = line.split(/\s+/);
    byName.set(name!.toUpperCase(), args);
  }
  const arg = (name: string) => byName.get(name)?.join(' ');
  const loginDelay = Number.parseInt(byName.get('LOGIN-DELAY')?.[0] ?? '', 10);
  const expire = arg('EXPIRE');
  const implementation = arg('IMPLEMENTATION');
  return {
    names,
    has: (name: string) => byName.has(name.toUpperCase()),
    sasl: (byName.get('SASL') ?? []).map((mech) => mech.toUpperCase()),
    pipelining: byName.has('PIPELINING'),
    uidl: byName.has('UIDL'),
    top: byName.has('TOP'),
    user: byName.has('USER'),
    stls: byName.has('STLS'),
    respCodes: byName.has('RESP-CODES'),
    authRespCode: byName.has('AUTH-RESP-CODE'),
    utf8: byName.has('UTF8'),
    ...(Number.isSafeInteger(loginDelay) && loginDelay >= 0 ? { loginDelaySeconds: loginDelay } : {}),
    ...(expire ? { expire } : {}),
    ...(implementation ? { implementation } : {}),
  };
}

/**
 * RFC 2449 §6.7: how long the server keeps a retrieved message, in days (0: removed at the end of the
 * session that retrieved it), `never`, or undefined when not announced or not understood. A `USER` suffix
 * (before login: the value may differ per user) is ignored; CAPA after the login gives the user's value.
 */
export function expireDays(expire: string | undefined): number | 'never' | undefined {
  const value = expire?.trim().split(/\s+/, 1)[0]?.toUpperCase();
  if (value === 'NEVER') return 'never';
  return value !== undefined && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
}
