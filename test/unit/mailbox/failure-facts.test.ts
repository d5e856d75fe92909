// What a failed poll records for `status`: the code, and the server's or token endpoint's text, bounded,
// free of control characters and of the mailbox's own secrets.
import { describe, expect, it } from 'vitest';
import type { MailboxConfig } from '../../../src/config/index.ts';
import { PophookError } from '../../../src/errors.ts';
import { failureFacts } from '../../../src/mailbox/poll.ts';
import { Pop3Error } from '../../../src/pop3/index.ts';

const mailbox = { id: 'inbox', password: 'hunter2-secret' } as MailboxConfig;

describe('failureFacts', () => {
  it("keeps the server's text after -ERR, one line, bounded, with the mailbox's password masked", () => {
    const error = new Pop3Error('POP3_SYS_PERM', 'PASS **** failed', {
      command: 'PASS ****',
      serverText: 'Account\tdisabled: password hunter2-secret is no longer valid\x1b[31m',
      responseCode: 'SYS/PERM',
    });
    expect(failureFacts(error, mailbox)).toEqual({
      code: 'POP3_SYS_PERM',
      text: 'Account?disabled: password **** is no longer valid?[31m',
    });
    const long = new Pop3Error('POP3_AUTH_FAILED', 'x', { serverText: 'y'.repeat(1_000) });
    expect(failureFacts(long, mailbox).text).toHaveLength(201);
    // A secret across the cut is masked whole first, so no part of it survives.
    const cut = new Pop3Error('POP3_AUTH_FAILED', 'x', { serverText: `${'z'.repeat(195)}hunter2-secret` });
    expect(failureFacts(cut, mailbox).text).toBe(`${'z'.repeat(195)}****`);
  });

  it("takes a token endpoint's (already scrubbed) text; no text, no field; no code, UNKNOWN", () => {
    const refused = new PophookError('OAUTH_INVALID_GRANT', 'credential g: token request failed', {
      details: { providerText: 'Token has been expired or revoked.' },
    });
    expect(failureFacts(refused, mailbox)).toEqual({
      code: 'OAUTH_INVALID_GRANT',
      text: 'Token has been expired or revoked.',
    });
    expect(failureFacts(new Pop3Error('POP3_AUTH_FAILED', 'x', { serverText: '  ' }), mailbox)).toEqual({
      code: 'POP3_AUTH_FAILED',
    });
    expect(failureFacts(new Error('boom'), mailbox)).toEqual({ code: 'UNKNOWN' });
  });
});
