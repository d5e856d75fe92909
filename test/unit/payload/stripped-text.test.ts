import EmailReplyParser from 'email-reply-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { parseMail } from '../../../src/payload/mail-parser.ts';
import {
  MAX_STRIP_CHARS,
  mayHoldReply,
  stripReply,
  untouchedReply,
} from '../../../src/payload/stripped-text.ts';
import { meta } from '../../fixtures/mime/corpus.ts';
import { smallCorpus } from '../../helpers/mail-corpus.ts';

const REPLY = 'Danke, das Problem ist gelöst.\nViele Grüße\nAlice';
const QUOTE = '> Hallo Alice,\n> bitte den Drucker neu starten.\n';

// Quote headers as the clients write them (names, dates and addresses invented).
const HEADERS: [client: string, header: string][] = [
  ['Gmail, English', 'On Tue, Jul 1, 2025 at 10:52 AM Support <support@example.net> wrote:'],
  ['Gmail, English, wrapped', 'On Tue, Jul 1, 2025 at 10:52 AM Support Team <\nsupport@example.net> wrote:'],
  ['Apple Mail, English', 'On 1 Jul 2025, at 10:52, Support <support@example.net> wrote:'],
  ['Gmail, German', 'Am Di., 1. Juli 2025 um 10:52 Uhr schrieb Support <support@example.net>:'],
  ['Apple Mail, German', 'Am 01.07.2025 um 10:52 schrieb Support <support@example.net>:'],
  ['Gmail, French', 'Le mar. 1 juil. 2025 à 10:52, Support <support@example.net> a écrit :'],
  ['Gmail, Spanish', 'El mar, 1 jul 2025 a las 10:52, Support (<support@example.net>) escribió:'],
  ['Gmail, Dutch', 'Op di 1 jul 2025 om 10:52 schreef Support <support@example.net>:'],
  ['Gmail, Italian', 'Il giorno mar 1 lug 2025 alle ore 10:52 Support <support@example.net> ha scritto:'],
  ['Gmail, Portuguese', 'Em ter., 1 de jul. de 2025 às 10:52, Support <support@example.net> escreveu:'],
  [
    'Outlook, English',
    'From: Support\nSent: Tuesday, July 1, 2025 10:52 AM\nTo: Alice\nSubject: RE: Ticket #42',
  ],
  [
    'Outlook, English, with address',
    'From: Support <support@example.net>\nSent: Tuesday, July 1, 2025 10:52',
  ],
  ['Outlook for Mac', 'From: Support <support@example.net>\nDate: Tuesday, 1 July 2025 at 10:52\nTo: Alice'],
  ['Outlook, German', 'Von: Support\nGesendet: Dienstag, 1. Juli 2025 10:52\nAn: Alice\nBetreff: AW: Ticket'],
  ['Outlook, French', 'De : Support\nEnvoyé : mardi 1 juillet 2025 10:52\nÀ : Alice\nObjet : RE: Ticket'],
  [
    'Outlook, Spanish',
    'De: Soporte\nEnviado el: martes, 1 de julio de 2025 10:52\nPara: Alice\nAsunto: RE: Ticket',
  ],
  ['Outlook, Dutch', 'Van: Support\nVerzonden: dinsdag 1 juli 2025 10:52\nAan: Alice\nOnderwerp: RE: Ticket'],
  ['Outlook, Italian', 'Da: Assistenza\nInviato: martedì 1 luglio 2025 10:52\nA: Alice\nOggetto: R: Ticket'],
  ['Outlook, Portuguese', 'De: Suporte\nEnviada em: terça-feira, 1 de julho de 2025 10:52\nPara: Alice'],
  ['Outlook rule, English', '-----Original Message-----\nFrom: Support\nSent: Tuesday'],
  ['Outlook rule, German', '-----Ursprüngliche Nachricht-----\nVon: Support'],
  ['Outlook rule, French', "-----Message d'origine-----\nDe : Support"],
  ['Outlook rule, Spanish', '-----Mensaje original-----\nDe: Soporte'],
  ['Outlook rule, Italian', '-----Messaggio originale-----\nDa: Assistenza'],
  ['Outlook rule, Dutch', '-----Oorspronkelijk bericht-----\nVan: Support'],
  ['Outlook rule, Portuguese', '-----Mensagem original-----\nDe: Suporte'],
];

describe('stripReply', () => {
  it.each(HEADERS)('cuts the history below a quote header of %s', (_client, header) => {
    expect(stripReply(`${REPLY}\n\n${header}\n\n${QUOTE}`)).toBe(REPLY);
  });

  it.each([
    ['-- \nAlice Example\nACME GmbH'],
    ['Sent from my iPhone'],
    ['Von meinem iPhone gesendet'],
    ['Envoyé de mon iPhone'],
    ['Enviado desde mi iPhone'],
    ['Verstuurd vanaf mijn iPhone'],
  ])('drops the signature %j', (signature) => {
    expect(stripReply(`Thanks, it works now.\n\n${signature}\n`)).toBe('Thanks, it works now.');
  });

  it('keeps a message that quotes nothing, and gives null without text and "" when all is quoted', () => {
    expect(stripReply('Line one\nLine two\n')).toBe('Line one\nLine two');
    expect(stripReply(null)).toBeNull();
    expect(stripReply(QUOTE)).toBe('');
  });

  it('reads only the first MAX_STRIP_CHARS characters, and stays fast on hostile lines', () => {
    const started = performance.now();
    const text = stripReply(`On ${'x <y> '.repeat(40_000)}`);
    stripReply(`${'x <y> '.repeat(3_000)}\n`.repeat(3));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(text?.length).toBe(MAX_STRIP_CHARS);
  });

  it('keeps long lines as they are, quotes below them still cut', () => {
    const long = `Sehr geehrte Damen und Herren, ${'bitte prüfen Sie die Rechnung. '.repeat(100)}`.trim();
    expect(stripReply(`${long}\n\n${HEADERS[0]?.[1]}\n${QUOTE}`)).toBe(long);
  });
});

// A line of each of the library's patterns (quote headers, separators, signatures in its languages), and
// plain lines: random texts of them, their near misses and random pieces hit every pattern.
const PATTERN_LINES = [
  ...HEADERS.flatMap(([, header]) => header.split('\n')),
  'Alice on Tue at 10 wrote:',
  'Am Di um 10:52 schrieb Support:',
  'W dniu 1 lip 2025 Support <s@e.net> napisał:',
  'Dnia 1 lip 2025 Support <s@e.net> pisze:',
  'Den 1 juli 2025 skrev Support <s@e.net>:',
  'pe 1.7.2025 Support <s@e.net> kirjoitti:',
  'ср, 1 июл. 2025 г. в 10:52, Support <s@e.net>:',
  '在 2025年7月1日，Support 写道：',
  '2025. 7. 1. 오전 10:52, Support 작성:',
  '2025/07/01 10:52、Support のメッセージ:',
  'Support <s@e.net> schrieb:',
  'From : Support [s@e.net]',
  'Van: S <s@e.net>',
  '2025-07-01 10:52 GMT+01:00 Support <s@e.net>:',
  'tue. 1 jul 2025 skrev S <s@e.net>:',
  '01.07.2025 10:52 "Support" <s@e.net>:',
  '10:52, 2025, "Support" <s@e.net> :',
  'Tue 2025 from Support <s@e.net>:',
  '--- Oprindelig besked ---',
  ...'--|-- |__|++|==|________________________________|Get Outlook for iOS|Cheers,|Best wishes!'.split('|'),
  ...'Kind regards,|Regards|Gesendet von Mail für Windows|Sendt fra min iPhone|Envoyé depuis mon iPhone'.split(
    '|',
  ),
  ...'Envoyé à partir de Outlook|Télécharger Outlook pour Android|Bien à vous|Cordialement|Bonne journée'.split(
    '|',
  ),
  ...'In data 1 luglio Support ha scritto:|Verzonden vanaf mijn iPhone|> quoted|>'.split('|'),
];
const PLAIN_LINES = [
  '',
  '',
  '',
  'Hello Alice,',
  'Thanks for the invoice.',
  'Wir haben geschrieben',
  'On it.',
];
const PIECES = [
  ...'On|Le|El|Il|Em|Am|Op|Den|pe|From|Von|De|Van|Da|Sent|Get|Best|Bien|Bonne|wrote|schrieb|Regards|2025|20'.split(
    '|',
  ),
  ...'<a@b.c>|[x]|10:52|-|_|+|=|>|<|:|[|]|~|.|,|!|！|"|\t|\u00a0| |  '.split('|'),
];
const nearMiss = (line: string) =>
  fc.constantFrom(
    line.toUpperCase(),
    line.toLowerCase(),
    line.slice(1),
    line.slice(0, -1),
    ` ${line}`,
    `${line} `,
    `${line}\t`,
    `${line}\u00a0`,
    `${line}~`,
    `-${line}-`,
    line.replace(/ /g, '  '),
  );
const line = fc.oneof(
  fc.constantFrom(...PATTERN_LINES),
  fc.constantFrom(...PATTERN_LINES).chain(nearMiss),
  fc.constantFrom(...PLAIN_LINES),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((pieces) => pieces.join('')),
  fc.string({ maxLength: 6 }),
);
const text = fc.array(line, { maxLength: 12 }).map((lines) => lines.join('\n'));
const libraryAnswer = (text: string) => new EmailReplyParser().parseReply(text);

describe('stripReply: texts the library has nothing to cut in skip it', () => {
  it('answers what the library answers, on random texts of its patterns and their near misses', () => {
    let skipped = 0;
    let read = 0;
    fc.assert(
      fc.property(text, (sample) => {
        if (mayHoldReply(sample)) {
          read++;
          return;
        }
        skipped++;
        expect(untouchedReply(sample).trim()).toBe(libraryAnswer(sample).trim());
      }),
      { numRuns: 20_000, seed: 2025 },
    );
    // Both sides are exercised: the property can fail.
    expect(skipped).toBeGreaterThan(2_000);
    expect(read).toBeGreaterThan(2_000);
  });

  it('answers what the library answers on the corpus, and skips the library for most of it', async () => {
    const texts: string[] = [];
    for (const { raw } of smallCorpus(500, 7))
      texts.push((await parseMail(raw, DEFAULT_PARSE_LIMITS)).text ?? '');
    const plain = texts.filter((text) => !mayHoldReply(text));
    for (const text of plain) expect(untouchedReply(text).trim()).toBe(libraryAnswer(text).trim());
    expect(plain.length).toBeGreaterThan(texts.length / 2);
  });

  it('still cuts where any of the library patterns is present', () => {
    for (const text of [
      '> quoted',
      'a\n--\nsig',
      'Thanks\n\nRegards,',
      'x\n\nOn Mon, A <a@b.c> wrote:\n> y',
    ]) {
      expect(mayHoldReply(text)).toBe(true);
    }
  });
});

describe('payload.strippedText', () => {
  it('strips an HTML-only Outlook reply (its text is converted from the HTML)', async () => {
    const html =
      '<html><body><div>Passt, danke!</div><div>Max</div>' +
      '<div style="border-top:solid #E1E1E1 1.0pt"><p><b>Von:</b> Support &lt;support@example.net&gt;<br>' +
      '<b>Gesendet:</b> Dienstag, 1. Juli 2025 10:52<br><b>An:</b> Max<br><b>Betreff:</b> Angebot</p></div>' +
      '<p>Hallo Max, anbei das Angebot.</p></body></html>';
    const raw = Buffer.from(
      `From: Max <max@contoso.example>\r\nSubject: AW: Angebot\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`,
    );
    const payload = await buildPayload(raw, meta(), DEFAULT_PARSE_LIMITS);
    expect(payload.text).toContain('Hallo Max');
    expect(payload.strippedText).toBe('Passt, danke!\nMax');
  });
});
