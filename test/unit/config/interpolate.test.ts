import { describe, expect, it } from 'vitest';
import { interpolateTree } from '../../../src/config/interpolate.ts';
import { configText, issuePaths, PASSWORD, parse } from './helpers.ts';

describe('interpolateTree', () => {
  it('substitutes a set variable, also inside longer text', () => {
    const { value, issues } = interpolateTree(
      { a: '${HOST}', b: 'Bearer ${TOKEN}!' },
      { HOST: 'h', TOKEN: 't' },
    );
    expect(value).toEqual({ a: 'h', b: 'Bearer t!' });
    expect(issues).toEqual([]);
  });

  it('reports an unset variable without default at its path', () => {
    const { issues } = interpolateTree({ mailboxes: { support: { password: '${NOPE}' } } }, {});
    expect(issues.map((issue) => issue.path)).toEqual(['mailboxes.support.password']);
    expect(issues[0]!.message).toContain('NOPE');
  });

  it('keeps a variable set to the empty string', () => {
    expect(interpolateTree({ a: 'x${EMPTY}y' }, { EMPTY: '' })).toEqual({ value: { a: 'xy' }, issues: [] });
  });

  it.each([
    ['${PORT:-995}', {}, '995'],
    ['${PORT:-995}', { PORT: '110' }, '110'],
    ['${PORT:-995}', { PORT: '' }, '995'],
    ['${X:-}', {}, ''],
    ['${X:-a:b-c}', {}, 'a:b-c'],
  ])('default: %s with %j → %j', (text, env, expected) => {
    expect(interpolateTree(text, env)).toEqual({ value: expected, issues: [] });
  });

  it('turns $${ into a literal ${ and leaves other dollars alone', () => {
    // `$${` always means a literal `${`, also right after another `$`.
    const { value, issues } = interpolateTree(['$${HOME}', 'cost: $5', 'a$$b', '$$${X}'], {
      HOME: 'no',
      X: 'x',
    });
    expect(value).toEqual(['${HOME}', 'cost: $5', 'a$$b', '$${X}']);
    expect(issues).toEqual([]);
  });

  it('never interpolates a substituted value again', () => {
    const env = { A: '${B}', B: 'leaked', C: '$${D}' };
    expect(interpolateTree({ a: '${A}', c: '${C}' }, env).value).toEqual({ a: '${B}', c: '$${D}' });
  });

  it('reaches into nested lists and maps and reports list indexes', () => {
    const tree = { outer: { list: ['${A}', { deep: '${MISSING}' }], map: { k: '${A}' } } };
    const { value, issues } = interpolateTree(tree, { A: 'a' });
    expect(value).toEqual({ outer: { list: ['a', { deep: '' }], map: { k: 'a' } } });
    expect(issues.map((issue) => issue.path)).toEqual(['outer.list[1].deep']);
  });

  it('leaves keys, numbers, booleans and null as they are', () => {
    const tree = { '${KEY}': 1, b: true, c: null };
    expect(interpolateTree(tree, { KEY: 'k' }).value).toEqual(tree);
  });

  it.each(['${}', '${1ABC}', '${A B}', '${unterminated', '${A:-x'])('reports malformed %j', (text) => {
    expect(interpolateTree({ a: text }, {}).issues.map((issue) => issue.path)).toEqual(['a']);
  });

  it('does not mutate its input', () => {
    const tree = { a: { b: '${A}' } };
    interpolateTree(tree, { A: 'x' });
    expect(tree).toEqual({ a: { b: '${A}' } });
  });
});

describe('interpolation in a configuration file', () => {
  it('fills the values the file references', async () => {
    const text = configText((doc) => {
      doc.mailboxes.support.password = '${POP3_PASSWORD}';
      doc.mailboxes.support.port = '${POP3_PORT:-995}';
      doc.mailboxes.support.delete = '${POP3_DELETE}';
      doc.webhooks.tickets.headers = { Authorization: 'Bearer ${TOKEN}' };
    });
    const config = await parse(text, { POP3_PASSWORD: 'p: #1', POP3_DELETE: 'false', TOKEN: 't' });
    const mailbox = config.mailboxes.support!;
    expect(mailbox.password).toBe('p: #1');
    expect(mailbox.port).toBe(995);
    expect(mailbox.delete).toBe(false);
    expect(config.webhooks.tickets!.headers).toEqual({ Authorization: 'Bearer t' });
  });

  it('lists every unset variable with CONFIG_INVALID, one issue per path', async () => {
    const text = configText((doc) => {
      doc.mailboxes.support.password = '${POP3_PASSWORD}';
      doc.webhooks.tickets.secret = '${TICKETS_SECRET}';
    });
    const paths = await issuePaths(parse(text, {}));
    expect(paths).toEqual(['mailboxes.support.password', 'webhooks.tickets.secret']);
  });

  it('keeps a password that looks like a reference once substituted', async () => {
    const config = await parse(configText(), {});
    expect(config.mailboxes.support!.password).toBe(PASSWORD);
    const tricky = await parse(
      configText((doc) => {
        doc.mailboxes.support.password = '${P}';
      }),
      { P: '${HOME}', HOME: '/root' },
    );
    expect(tricky.mailboxes.support!.password).toBe('${HOME}');
  });
});
