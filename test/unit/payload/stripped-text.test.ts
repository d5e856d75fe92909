import { describe, expect, it } from 'vitest';
import { buildPayload, DEFAULT_PARSE_LIMITS } from '../../../src/payload/index.ts';
import { MAX_STRIP_CHARS, stripReply } from '../../../src/payload/stripped-text.ts';
import { meta } from '../../fixtures/mime/corpus.ts';

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
