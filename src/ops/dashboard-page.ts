// The dashboard page: static HTML and a small script, served from strings. It holds no data itself: the
// script asks for the token (or takes `?token=` once, then drops it from the address bar), keeps it in
// sessionStorage, and calls the API with `Authorization: Bearer`. Everything from Redis or from mail
// (UIDLs, subjects, error texts, the receiver's answers) is written with textContent, never as HTML. A
// strict CSP allows only our script. Buttons: Replay (a dead letter, as `pophook dlq replay`) and Retry now
// (a delivery waiting on backoff, as `pophook retry now`).
import type { Reply, Route } from './http-server.ts';

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pophook</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232b; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
  th { background: #eef0f3; font-weight: 600; }
  .bad { color: #b3261e; font-weight: 600; } .ok { color: #1e7b34; } .muted { color: #6b7480; }
  button { font: inherit; padding: .2rem .7rem; cursor: pointer; }
  #login { display: none; } #status { margin-left: 1rem; }
  .subject { font-weight: 600; } .id { font-size: 12px; }
  pre { white-space: pre-wrap; word-break: break-all; max-width: 36rem; margin: .3rem 0 0; font-size: 12px; }
</style>
</head>
<body>
<h1>pophook <span id="status" class="muted"></span></h1>
<form id="login"><label>Admin token <input id="token" type="password" autocomplete="off" size="40"></label>
<button type="submit">Open</button></form>
<main id="main" hidden>
<h2>Mailboxes</h2>
<table id="mailboxes"><thead><tr><th>Mailbox</th><th>Last poll</th><th>State</th><th>Listed</th>
<th>Backlog</th><th>Oldest undelivered</th><th>Dead</th><th>Dropped</th><th>Duplicates</th><th>Lock</th><th>Next poll</th></tr></thead><tbody></tbody></table>
<h2>Webhooks</h2>
<table id="webhooks"><thead><tr><th>Webhook</th><th>Success (last hour)</th><th>Last error</th></tr></thead><tbody></tbody></table>
<h2>Queues</h2>
<table id="queues"><thead><tr><th>Queue</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Failed</th></tr></thead><tbody></tbody></table>
<h2>Dead letters <button id="replay-all" type="button">Replay all</button></h2>
<table id="dead"><thead><tr><th>Message</th><th>Mailbox / UIDL</th><th>Dead since</th><th>Attempts</th><th>Reason</th>
<th>Receiver answered</th><th></th></tr></thead><tbody></tbody></table>
<h2>Waiting on backoff <button id="retry-all" type="button">Retry all now</button></h2>
<table id="backoff"><thead><tr><th>Id</th><th>Mailbox / UIDL</th><th>Webhook</th><th>Attempts</th><th>Next attempt</th>
<th>Last error</th><th></th></tr></thead><tbody></tbody></table>
<h2>Recent jobs</h2>
<table id="jobs"><thead><tr><th>Queue</th><th>State</th><th>Job</th><th>Mailbox / UIDL</th><th>Attempts</th><th>Reason</th></tr></thead><tbody></tbody></table>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

const SCRIPT = `'use strict';
const KEY = 'pophook-token';
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.has('token')) {
  sessionStorage.setItem(KEY, params.get('token'));
  history.replaceState(null, '', location.pathname);
}
const ago = (ms) => {
  if (ms === undefined || ms === null) return '—';
  const s = Math.round((Date.now() - ms) / 1000);
  const a = Math.abs(s), u = a < 120 ? a + ' s' : a < 7200 ? Math.round(a / 60) + ' min' : Math.round(a / 3600) + ' h';
  return s >= 0 ? u + ' ago' : 'in ' + u;
};
const age = (ms) => (ms === undefined ? '—' : ago(ms).replace(' ago', ''));
function row(tbody, cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    if (cell instanceof Node) td.append(cell); else td.textContent = cell === undefined ? '—' : String(cell);
    tr.append(td);
  }
  tbody.append(tr);
  return tr;
}
function fill(id, rows) {
  const tbody = $(id).tBodies[0];
  tbody.replaceChildren();
  for (const cells of rows) row(tbody, cells);
  if (rows.length === 0) row(tbody, ['none']).className = 'muted';
}
async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...init.headers, authorization: 'Bearer ' + sessionStorage.getItem(KEY) } });
  if (res.status === 401 || res.status === 404) { sessionStorage.removeItem(KEY); showLogin('token refused'); throw new Error('unauthorized'); }
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}
function showLogin(why) { $('main').hidden = true; $('login').style.display = 'block'; $('status').textContent = why || ''; }
const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function replay(body) {
  $('status').textContent = 'replaying…';
  const result = await post('/api/dead-letters/replay', body);
  $('status').textContent = 'replayed ' + result.replayed.length;
  await refresh();
}
async function retryNow(body) {
  $('status').textContent = 'retrying…';
  const result = await post('/api/deliveries/retry-now', body);
  $('status').textContent = 'retried now: ' + (typeof result.retried === 'number' ? result.retried : result.retried.filter((r) => r.result === 'promoted').length);
  await refresh();
}
function button(label, id, action) {
  const b = document.createElement('button');
  b.type = 'button'; b.textContent = label; b.dataset.id = id;
  b.addEventListener('click', () => action({ ids: [id] }).catch((e) => ($('status').textContent = e.message)));
  return b;
}
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}
const size = (n) => (n === null || n === undefined ? '—' : n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB');
function message(d) {
  const f = document.createDocumentFragment();
  f.append(el('div', d.subject === null ? '(no subject)' : d.subject, 'subject'));
  f.append(el('div', [d.from || '(no from)', d.date ? new Date(d.date).toLocaleString() : '(no date)', size(d.size)].join(' · '), 'muted'));
  return f;
}
function where(d) {
  const f = document.createDocumentFragment();
  f.append(el('div', d.mailbox + ' / ' + d.uidl), el('div', d.id, 'muted id'));
  return f;
}
const reason = (e) => (e ? e.code + (e.reason ? ': ' + e.reason : '') : '—');
const opened = new Set();
function answer(d) {
  const e = d.lastError;
  if (!e || e.status === undefined) return el('span', '—', 'muted');
  const line = e.status + (e.statusText ? ' ' + e.statusText : '');
  if (!e.body) return el('span', line);
  const details = el('details');
  details.open = opened.has(d.id);
  details.addEventListener('toggle', () => (details.open ? opened.add(d.id) : opened.delete(d.id)));
  details.append(el('summary', line), el('pre', e.body));
  return details;
}
const streak = (n) => (n > 1 ? ' ×' + n : '');
// The state the server decided (src/mailbox/state.ts), as pophook status shows it: a past failure only as past.
function state(m) {
  const s = m.state;
  let line = s.state === 'new' ? '—' : s.state;
  if (s.state !== 'ok' && s.code) line += ' ' + s.code + streak(s.failures);
  if (s.nextLoginAt) line += ', next login ' + ago(s.nextLoginAt);
  if (s.past) line += ' (past: ' + s.past.code + streak(s.past.failures) + ', ' + ago(s.past.at) + ')';
  const f = document.createDocumentFragment();
  f.append(el('span', line, s.state === 'ok' ? 'ok' : s.state === 'new' ? 'muted' : 'bad'));
  if (s.text) f.append(el('div', s.text, 'muted'));
  if (m.expire) f.append(el('div', 'server EXPIRE ' + m.expire + ': retrieved messages do not stay', 'muted'));
  return f;
}
async function refresh() {
  const [s, jobs] = await Promise.all([api('/api/status'), api('/api/jobs')]);
  $('main').hidden = false; $('login').style.display = 'none';
  fill('mailboxes', s.mailboxes.map((m) => [m.id, ago(m.lastPollAt), state(m), m.listed, m.ledger.queued,
    age(m.oldestQueuedAt), m.ledger.dead, m.dropped ?? 0, m.duplicates ?? 0, m.lock ? m.lock.owner : '—',
    ago(m.nextPollAt)]));
  fill('webhooks', s.webhooks.map((w) => [w.id,
    w.window.rate === null ? 'no attempts' : Math.round(w.window.rate * 100) + '% of ' + w.window.attempts,
    w.lastError ? w.lastError.code + (w.lastError.status ? ' ' + w.lastError.status : '') + ', ' + ago(w.lastError.at) : '—']));
  fill('queues', Object.entries(s.queues).map(([name, c]) => [name, c.waiting, c.active, c.delayed, c.failed]));
  fill('dead', s.deadLetters.map((d) => [message(d), where(d), ago(d.since), d.attempts, reason(d.lastError),
    answer(d), button('Replay', d.id, replay)]));
  fill('backoff', s.waitingOnBackoff.map((w) => [w.webhookId, w.mailbox + ' / ' + w.uidl, w.webhook, w.attempts,
    ago(w.nextAttemptAt), w.lastError, button('Retry now', w.webhookId, retryNow)]));
  fill('jobs', jobs.map((j) => [j.queue, j.state, j.id, j.mailbox ? j.mailbox + (j.uidl ? ' / ' + j.uidl : '') : '—', j.attemptsMade, j.failedReason]));
  const problems = Object.entries(s.watchdog);
  $('status').textContent = problems.length ? 'watchdog: ' + problems.map((p) => p.join(': ')).join('; ') : 'updated ' + new Date().toLocaleTimeString();
  $('status').className = problems.length ? 'bad' : 'muted';
}
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $('token').value);
  refresh().catch((err) => ($('status').textContent = err.message));
});
$('replay-all').addEventListener('click', () => replay({ all: true }).catch((e) => ($('status').textContent = e.message)));
$('retry-all').addEventListener('click', () => retryNow({ all: true }).catch((e) => ($('status').textContent = e.message)));
if (sessionStorage.getItem(KEY)) refresh().catch((e) => ($('status').textContent = e.message)); else showLogin();
setInterval(() => { if (sessionStorage.getItem(KEY) && !$('main').hidden) refresh().catch((e) => ($('status').textContent = e.message)); }, 3000);
`;

const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

const page = (contentType: string, body: string): Reply => ({
  status: 200,
  headers: { ...PAGE_HEADERS, 'content-type': contentType },
  body,
});

/** The page is public when a token is configured (it holds no data) and absent (404) otherwise. */
export function dashboardPageRoutes(tokenConfigured: boolean): Route[] {
  if (!tokenConfigured) return [];
  return [
    {
      method: 'GET',
      path: '/',
      handle: ({ url }) => ({ status: 302, headers: { location: `/dashboard${url.search}` }, body: '' }),
    },
    { method: 'GET', path: '/dashboard', handle: () => page('text/html; charset=utf-8', HTML) },
    { method: 'GET', path: '/dashboard.js', handle: () => page('text/javascript; charset=utf-8', SCRIPT) },
  ];
}
