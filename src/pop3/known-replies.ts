// -ERR texts of big providers that say more than their response code (or say it without one), each mapped
// to the code whose retry rule fits and to the fix an operator needs. The server's own text stays in the
// error; this only adds what to do about it. Sources: Google's "Gmail POP troubleshooting" and "Read Gmail
// messages on other email clients using POP" help pages; Microsoft's "POP, IMAP, and SMTP settings" and
// "Authenticate an IMAP, POP or SMTP connection using OAuth" pages for Exchange Online.
import type { Pop3ErrorCode } from './errors.ts';

export interface KnownReply {
  /** Stable id for logs and tests, e.g. `gmail-web-login-required`. */
  readonly id: string;
  readonly code: Pop3ErrorCode;
  /** What the operator should do, appended to the error message. */
  readonly fix: string;
}

interface Rule extends KnownReply {
  readonly pattern: RegExp;
}

const RULES: readonly Rule[] = [
  {
    id: 'gmail-web-login-required',
    pattern: /web login required/i,
    code: 'POP3_AUTH_FAILED',
    fix: 'Google wants this account to sign in through a browser first (a blocked sign-in, a security check): sign in at mail.google.com as this user, then use an OAuth credential (type: google)',
  },
  {
    id: 'gmail-app-password-required',
    pattern: /application-specific password required/i,
    code: 'POP3_AUTH_FAILED',
    fix: 'the account has 2-Step Verification, so its password is refused: use an OAuth credential (type: google) or an app password',
  },
  {
    id: 'gmail-pop-disabled',
    pattern: /not enabled for POP access/i,
    code: 'POP3_SYS_PERM',
    fix: 'turn POP on: Gmail Settings, Forwarding and POP/IMAP, Enable POP (Workspace: the admin must allow POP too)',
  },
  {
    id: 'logon-failure',
    // Exchange Online's refusal of a login or an XOAUTH2 token, with no RFC 3206 code.
    pattern: /unknown user name or bad password/i,
    code: 'POP3_AUTH_FAILED',
    fix: 'Exchange refused the login: check the app has POP.AccessAsApp with admin consent, its service principal exists (New-ServicePrincipal), it has FullAccess to this mailbox (Add-MailboxPermission) and POP is on for it (Set-CASMailbox -PopEnabled $true)',
  },
  {
    id: 'exchange-server-unavailable',
    pattern: /server unavailable\.?\s*\d*/i,
    code: 'POP3_SYS_TEMP',
    fix: 'Exchange could not reach the mailbox (a move, an outage, throttling): pophook tries again later; if it persists, check the mailbox is licensed and POP is on for it',
  },
  {
    id: 'throttled',
    pattern:
      /command rejected|throttl|too many (?:connections|logins|requests)|try again later|temporary system problem/i,
    code: 'POP3_SYS_TEMP',
    fix: 'the server is throttling or busy: pophook backs off and tries again later; fewer mailboxes per account or a longer pollInterval avoid it',
  },
];

/**
 * The provider rule a -ERR text matches, if any. `code` is what the response code and command alone gave.
 * The server's RFC 3206 code wins: with one, a rule only adds its fix when it agrees on the code (so
 * "[AUTH] … try again later" stays a refused login); without one, the rule's code replaces a plain
 * POP3_ERR or POP3_AUTH_FAILED.
 */
export function knownReply(text: string, code: Pop3ErrorCode, coded: boolean): KnownReply | undefined {
  const rule = RULES.find((r) => r.pattern.test(text) && (coded ? r.code === code : true));
  return rule === undefined ? undefined : { id: rule.id, code: rule.code, fix: rule.fix };
}
