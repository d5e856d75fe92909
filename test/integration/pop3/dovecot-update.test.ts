// Interop with a real Dovecot 2.3 on the UPDATE state (RFC 1939 §6): DELE removes a message only once
// QUIT is answered +OK; a session that ends any other way (dropped connection) removes nothing; RSET
// undoes every DELE. This is the rule pophook's "delete only after the webhook said 2xx" stands on.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pop3Client } from '../../../src/pop3/index.ts';
import { type DovecotServer, startDovecot } from '../../helpers/dovecot.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';

const USER = 'dave';
const PASSWORD = 'dave-secret';
const COUNT = 6;

let server: DovecotServer;
let seed = 100;

beforeAll(async () => {
  server = await startDovecot({ users: { [USER]: PASSWORD } });
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(async () => {
  await server.clearMailbox(USER);
  await server.addMessages(
    USER,
    smallCorpus(COUNT, seed++).map((m) => m.raw),
  );
});

async function open(pipelining = true): Promise<Pop3Client> {
  const client = await Pop3Client.connect({
    host: server.host,
    port: server.pop3Port,
    tls: 'starttls',
    ca: server.caPem,
    pipelining,
  });
  await client.login({ username: USER, password: PASSWORD });
  return client;
}

async function uids(): Promise<string[]> {
  const client = await open();
  try {
    const list = (await client.uidl()).map((entry) => entry.uid);
    await client.quit();
    return list;
  } finally {
    client.close();
  }
}

describe('Dovecot: DELE and the UPDATE state', () => {
  it('DELE then QUIT removes exactly the deleted messages', async () => {
    const before = await uids();
    const client = await open();
    try {
      await client.dele(2);
      await client.dele(5);
      expect(await client.stat()).toMatchObject({ count: COUNT - 2 });
      await client.quit();
    } finally {
      client.close();
    }
    expect(await server.countMessages(USER)).toBe(COUNT - 2);
    expect(await uids()).toEqual(before.filter((_, i) => i !== 1 && i !== 4));
  });

  it.each([true, false])('deleMany then QUIT removes them all (pipelining: %s)', async (pipelining) => {
    const client = await open(pipelining);
    try {
      await client.deleMany([1, 3, 4, 6]);
      await client.quit();
    } finally {
      client.close();
    }
    expect(await server.countMessages(USER)).toBe(COUNT - 4);
  });

  it('DELE then a dropped connection (close without QUIT) removes nothing', async () => {
    const before = await uids();
    const client = await open();
    await client.dele(1);
    await client.dele(2);
    client.close();
    expect(await server.countMessages(USER)).toBe(COUNT);
    expect(await uids()).toEqual(before);
  });

  it('RSET undoes every DELE of the session', async () => {
    const before = await uids();
    const client = await open();
    try {
      await client.deleMany([1, 2, 3]);
      await client.rset();
      expect(await client.stat()).toMatchObject({ count: COUNT });
      await client.quit();
    } finally {
      client.close();
    }
    expect(await server.countMessages(USER)).toBe(COUNT);
    expect(await uids()).toEqual(before);
  });

  it('a message marked deleted cannot be retrieved in the same session (POP3_ERR)', async () => {
    const client = await open();
    try {
      await client.dele(3);
      await expect(client.retr(3)).rejects.toMatchObject({ code: 'POP3_ERR' });
      await client.noop();
      await client.quit();
    } finally {
      client.close();
    }
    expect(await server.countMessages(USER)).toBe(COUNT - 1);
  });
});
