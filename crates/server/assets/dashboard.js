// The revtrace dashboard: plain JavaScript over the documented API
// (/v1/company, /v1/revenue-impact, /daily, /v1/tickets, receipts). The
// secret key stays in this browser's localStorage and goes out as Bearer.
(function () {
  'use strict';
  const KEY = 'revtrace.secret_key';
  const $ = (id) => document.getElementById(id);
  const state = { company: null, days: 30, from: null, to: null, profile: '', source: '', tab: null };

  const SOURCES = { CHAT_WIDGET: 'Chat widget', FAQ: 'Product FAQ', NUDGE_CLICK: 'Proactive nudge' };
  const REASONS = {
    ATTRIBUTED: 'Credited to this conversation',
    NO_FINGERPRINT: 'No visitor fingerprint',
    NO_TICKET: 'No conversation under this visitor',
    NO_ANSWER_FOUND: 'No grounded AI answer before the event',
    OUTSIDE_WINDOW: 'Last grounded touch outside the window',
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c.nodeType ? c : String(c));
    return node;
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: 'Bearer ' + localStorage.getItem(KEY) } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((body.error && body.error.message) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  const usd = (v) => v === null || v === undefined ? '—'
    : Number(v).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
  const count = (v) => v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US');
  const pct = (v) => v === null || v === undefined ? '—' : Number(v).toFixed(2) + ' %';
  // "1 day", "2 days": a count with its noun.
  const plural = (n, one, many) => `${count(n)} ${Number(n) === 1 ? one : many}`;
  // 138 min → "2 h 18 min".
  const duration = (ms) => {
    const minutes = Math.round(ms / 60000);
    if (minutes < 60) return `${minutes} min`;
    const h = Math.floor(minutes / 60), m = minutes % 60;
    return m ? `${h} h ${m} min` : `${h} h`;
  };
  // An instant in the company's zone, labelled, with the month spelled out
  // ("Sep 14, 2026, 11:02 AM EDT"): never the browser's zone, never 01/12.
  const when = (iso) => new Date(iso).toLocaleString('en-US', { timeZone: state.company.timezone,
    month: 'short', day: 'numeric', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
  const DECIDED = { ingest: 'decided when the event arrived', reattribute: 'decided again by a replay (revtrace reattribute)' };

  function change(value) {
    if (value === null || value === undefined) return el('span', { class: 'change', text: 'no earlier data' });
    const sign = value > 0 ? '▲ ' : value < 0 ? '▼ ' : '';
    return el('span', { class: 'change ' + (value > 0 ? 'up' : value < 0 ? 'down' : ''),
      text: sign + Math.abs(value).toFixed(2) + ' % vs previous period' });
  }

  // ---- sign in -------------------------------------------------------------

  function showSignIn(message) {
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('pages').hidden = true;
    $('company').textContent = '';
    $('sign-in').hidden = false;
    $('sign-in-error').textContent = message || '';
  }

  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    localStorage.setItem(KEY, $('key').value.trim());
    await start();
  });
  $('sign-out').addEventListener('click', () => { localStorage.removeItem(KEY); showSignIn(); });

  async function start() {
    if (!localStorage.getItem(KEY)) return showSignIn();
    try {
      state.company = await api('/v1/company');
    } catch (error) {
      localStorage.removeItem(KEY);
      // The API says why (a public pk_ key, an unknown or revoked key).
      return showSignIn(error.status === 401 && !error.message ? 'That key was not accepted.' : error.message);
    }
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = false;
    $('pages').hidden = false;
    $('company').textContent = state.company.name + ' · ' + state.company.timezone;
    const profile = $('profile');
    profile.replaceChildren(el('option', { value: '', text: 'All AI profiles' }),
      ...state.company.ai_profiles.map((p) => el('option', { value: p, text: p })));
    state.tab = state.company.has_checkout_data ? 'checkout' : 'cart';
    route();
  }

  // ---- filters -------------------------------------------------------------

  function query() {
    const q = new URLSearchParams();
    if (state.days === 'custom' && state.from && state.to) { q.set('from', state.from); q.set('to', state.to); }
    else {
      const to = new Date();
      const from = new Date(to.getTime() - (state.days - 1) * 86400000);
      // Reporting days are the company's: format both ends in its zone.
      q.set('from', from.toLocaleDateString('en-CA', { timeZone: state.company.timezone }));
      q.set('to', to.toLocaleDateString('en-CA', { timeZone: state.company.timezone }));
    }
    if (state.profile) q.set('ai_profile', state.profile);
    if (state.source) q.set('source', state.source);
    return q.toString();
  }

  document.querySelectorAll('.ranges button').forEach((b) => b.addEventListener('click', () => {
    const days = b.dataset.days;
    $('custom-range').hidden = days !== 'custom';
    if (days === 'custom') return;
    state.days = Number(days);
    renderOverview();
  }));
  $('apply-range').addEventListener('click', () => {
    const from = $('from').value, to = $('to').value;
    // Refused here, before any request: the old figures stay, labelled as such.
    const problem = !from || !to ? 'Pick both a first and a last day.'
      : from > to ? 'The first day comes after the last one.' : '';
    $('range-error').textContent = problem;
    if (problem) return;
    state.days = 'custom';
    state.from = from;
    state.to = to;
    renderOverview();
  });
  $('profile').addEventListener('change', (e) => { state.profile = e.target.value; renderOverview(); });
  $('source').addEventListener('change', (e) => { state.source = e.target.value; renderOverview(); });

  // ---- overview ------------------------------------------------------------

  const CARDS = {
    checkout: [
      ['checkout_revenue_usd', 'AI-attributed revenue', usd],
      ['net_checkout_revenue_usd', 'Net of refunds', usd],
      ['orders', 'Orders', count],
      ['average_order_value_usd', 'Average order value', usd],
      ['daily_avg_checkout_revenue_usd', 'Revenue per active day', usd],
      ['ai_revenue_share_pct', 'AI share of all revenue', pct],
      ['aov_uplift_pct', 'AOV uplift vs unassisted', pct],
      ['unattributed_checkout_revenue_usd', 'Baseline (not attributed)', usd],
    ],
    cart: [
      ['cart_gmv_usd', 'AI-attributed cart GMV', usd],
      ['products_in_cart', 'Products in cart', count],
      ['daily_avg_cart_gmv_usd', 'Cart GMV per active day', usd],
      ['active_days', 'Active days', count],
    ],
  };

  function renderTabs() {
    const tabs = [];
    if (state.company.has_checkout_data) tabs.push(['checkout', 'Checkout revenue']);
    tabs.push(['cart', 'Cart GMV']);
    $('tabs').replaceChildren(...tabs.map(([id, label]) => el('button', {
      role: 'tab', 'data-tab': id, 'aria-selected': String(state.tab === id), text: label,
      onclick: () => { state.tab = id; renderOverview(); },
    })));
    document.querySelectorAll('.ranges button').forEach((b) =>
      b.setAttribute('aria-pressed', String(String(state.days) === b.dataset.days)));
  }

  // Each overview load gets a number; only the latest one renders, so a slow
  // answer to an earlier click (a tab, then a filter) cannot overwrite it.
  let overviewLoads = 0;

  // Metrics that are rates: their change is shown in percentage points.
  const RATES = new Set(['ai_revenue_share_pct', 'aov_uplift_pct']);

  function changeOf(report, name) {
    if (!RATES.has(name)) return change(report.change_pct[name]);
    const now = report.metrics[name], before = report.previous.metrics[name];
    if (now === null || before === null || now === undefined || before === undefined) return change(null);
    const points = Number(now) - Number(before);
    const sign = points > 0 ? '▲ ' : points < 0 ? '▼ ' : '';
    return el('span', { class: 'change ' + (points > 0 ? 'up' : points < 0 ? 'down' : ''),
      text: sign + Math.abs(points).toFixed(2) + ' pts vs previous period' });
  }

  async function renderOverview() {
    renderTabs();
    const load = ++overviewLoads;
    const q = query();
    $('overview').setAttribute('aria-busy', 'true');
    $('overview-status').textContent = 'Loading…';
    $('overview-status').className = 'status loading';
    let report, daily, conversations;
    try {
      [report, daily, conversations] = await Promise.all([
        api('/v1/revenue-impact?' + q), api('/v1/revenue-impact/daily?' + q), api('/v1/tickets?limit=10&' + q),
      ]);
    } catch (error) {
      if (load !== overviewLoads) return;
      // No figures from another selection stay under this one.
      $('overview').removeAttribute('aria-busy');
      $('overview-status').textContent = 'Could not load these figures: ' + error.message;
      $('overview-status').className = 'status error';
      $('cards').replaceChildren();
      $('period').textContent = '';
      return;
    }
    if (load !== overviewLoads) return;
    $('overview').removeAttribute('aria-busy');
    $('overview-status').textContent = '';
    $('overview-status').className = 'status';
    $('period').textContent = `${report.from} – ${report.to} (${plural(report.days, 'day', 'days')}) · previous ${report.previous.from} – ${report.previous.to}`
      + (report.metrics.unconverted_events ? ` · ${report.metrics.unconverted_events} events without a currency rate left out` : '');
    $('cards').replaceChildren(...CARDS[state.tab].map(([name, label, format]) => el('div', { class: 'card' },
      el('div', { class: 'label', text: label }),
      el('div', { class: 'value', 'data-metric': name, text: format(report.metrics[name]) }),
      name.startsWith('daily_avg') ? el('span', { class: 'change',
        text: `over ${plural(report.metrics.active_days, 'active day', 'active days')} of ${report.days}` }) : null,
      changeOf(report, name))));
    renderChart(daily.days);
    renderSources(report.by_source);
    renderConversion(report.metrics);
    renderConversations(conversations);
  }

  function renderChart(days) {
    const checkout = state.tab === 'checkout';
    $('chart-title').textContent = checkout ? 'Daily checkout revenue: AI-attributed and baseline' : 'Daily AI-attributed cart GMV';
    const w = 720, h = 200, pad = 28;
    const values = days.map((d) => checkout ? Number(d.checkout_revenue_usd) : Number(d.cart_gmv_usd));
    const base = days.map((d) => checkout ? Number(d.unattributed_checkout_revenue_usd) : 0);
    const max = Math.max(1, ...values.map((v, i) => v + base[i]));
    const step = (w - pad) / Math.max(1, days.length);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', `0 0 ${w} ${h + 20}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', $('chart-title').textContent);
    const add = (tag, attrs, text) => {
      const n = document.createElementNS('http://www.w3.org/2000/svg', tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text) n.textContent = text;
      svg.append(n);
      return n;
    };
    add('text', { x: 0, y: 10 }, usd(max).replace('.00', ''));
    days.forEach((d, i) => {
      const x = pad + i * step + step * 0.15, bw = Math.max(1, step * 0.7);
      const hv = (values[i] / max) * (h - 20), hb = (base[i] / max) * (h - 20);
      const bar = add('rect', { class: 'bar', x, y: h - hv, width: bw, height: Math.max(0, hv), 'data-day': d.day });
      const tip = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      tip.textContent = `${d.day}: ${usd(values[i])}`;
      bar.append(tip);
      if (hb > 0) add('rect', { class: 'baseline', x, y: h - hv - hb, width: bw, height: hb });
      if (days.length <= 31 ? i % 5 === 0 : i % 15 === 0) add('text', { x, y: h + 14 }, d.day.slice(5));
    });
    const legend = el('div', { class: 'legend' }, el('span', {}, el('i', { style: 'background: var(--accent)' }), 'AI-attributed'));
    if (checkout) legend.append(el('span', {}, el('i', { style: 'background: var(--base)' }), 'Baseline'));
    $('chart').replaceChildren(svg, legend);
  }

  function renderSources(bySource) {
    const checkout = state.tab === 'checkout';
    const rows = Object.entries(bySource).map(([source, m]) => el('tr', { 'data-source': source },
      el('td', { text: SOURCES[source] }),
      el('td', { class: 'num', text: checkout ? usd(m.checkout_revenue_usd) : usd(m.cart_gmv_usd) }),
      el('td', { class: 'num', text: checkout ? count(m.orders) : count(m.products_in_cart) })));
    $('sources').replaceChildren(el('thead', {}, el('tr', {}, el('th', { text: 'Source' }),
      el('th', { class: 'num', text: checkout ? 'Revenue' : 'Cart GMV' }),
      el('th', { class: 'num', text: checkout ? 'Orders' : 'Products' }))), el('tbody', {}, rows));
  }

  function renderConversion(m) {
    const meter = (label, rate, visitors, plain) => el('div', {},
      el('div', {}, el('strong', { 'data-metric': label === 'Assisted' ? 'assisted_conversion_rate_pct' : 'unassisted_conversion_rate_pct', text: pct(rate) }),
        ` ${label} · ${plural(visitors, 'visitor', 'visitors')}`),
      el('div', { class: 'meter' + (plain ? ' plain' : '') }, el('div', { style: `width: ${Math.min(100, rate || 0)}%` })));
    $('conversion').replaceChildren(
      meter('Assisted', m.assisted_conversion_rate_pct, m.assisted_visitors, false),
      meter('Unassisted', m.unassisted_conversion_rate_pct, m.unassisted_visitors, true),
      el('p', { class: 'period', text: 'Visitors who got a grounded AI answer in the period, against those who did not.' }));
  }

  function renderConversations(rows) {
    if (!rows.length) {
      $('conversations').replaceChildren(el('tbody', {}, el('tr', {}, el('td', { text: 'No attributed conversations in this period yet.' }))));
      return;
    }
    $('conversations').replaceChildren(
      el('thead', {}, el('tr', {}, el('th', { text: 'Conversation' }), el('th', { text: 'Source' }),
        el('th', { class: 'num', text: 'Revenue' }), el('th', { class: 'num', text: 'Cart GMV' }))),
      el('tbody', {}, rows.map((r) => el('tr', {},
        el('td', {}, el('a', { href: '#/tickets/' + encodeURIComponent(r.ticket_id), text: r.ticket_id })),
        el('td', {}, el('span', { class: 'pill', text: SOURCES[r.message_source] })),
        el('td', { class: 'num', text: usd(r.checkout_revenue_usd) }),
        el('td', { class: 'num', text: usd(r.cart_gmv_usd) })))));
  }

  // ---- one conversation ----------------------------------------------------

  async function renderConversation(ticketId) {
    const view = $('conversation');
    view.replaceChildren(el('p', { text: 'Loading…' }));
    let t;
    try {
      t = await api('/v1/tickets/' + encodeURIComponent(ticketId) + '/revenue');
    } catch (error) {
      view.replaceChildren(el('a', { class: 'back', href: '#/', text: '← Revenue impact' }), el('p', { class: 'error', text: error.message }));
      return;
    }
    const events = t.events.map((e) => {
      const receipt = el('div', { class: 'receipt' });
      const products = e.products.map((p) => el('div', { class: 'product' },
        p.image_url ? el('img', { src: p.image_url, alt: '' }) : null,
        el('div', {},
          p.url ? el('a', { href: p.url, target: '_blank', rel: 'noopener', text: p.title || p.product_id })
            : el('span', { text: p.title || p.product_id }),
          el('div', { class: 'period', text: `${p.quantity} × ${p.unit_price} ${e.currency}` }))));
      return el('article', { class: 'event', 'data-event': e.event_id },
        el('header', {},
          el('div', {}, el('strong', { text: e.cart_type === 'CHECKOUT' ? `Order ${e.order_id}` : e.event_type.replace(/_/g, ' ').toLowerCase() }),
            ' ', el('span', { class: 'period', 'data-when': e.occurred_at, text: when(e.occurred_at) }),
            e.cancelled ? el('span', { class: 'pill', text: 'cancelled' }) : null,
            e.is_test ? el('span', { class: 'pill', text: 'test' }) : null),
          el('div', { class: 'amount', 'data-usd': e.usd_value, text: usd(e.usd_value) +
            (Number(e.refunded_usd) ? ` (refunded ${usd(e.refunded_usd)})` : '') })),
        el('div', { class: 'products' }, products),
        el('button', { class: 'link', text: 'Why was this credited?', onclick: async (ev) => {
          ev.target.disabled = true;
          receipt.replaceChildren(el('p', { class: 'loading', text: 'Loading the receipt…' }));
          let r;
          try {
            r = await api('/v1/events/' + encodeURIComponent(e.event_id) + '/attribution');
          } catch (error) {
            ev.target.disabled = false;
            return receipt.replaceChildren(el('p', { class: 'error', role: 'alert', text: 'Could not load the receipt: ' + error.message }));
          }
          ev.target.remove();
          receipt.replaceChildren(el('p', { text: `${REASONS[r.reason]} · window ${r.window_ms / 3600000} h · ${DECIDED[r.decided_by] || r.decided_by}` }),
            el('table', {},
              el('thead', {}, el('tr', {}, ['Conversation', 'Source', 'Last grounded touch', 'Before the event'].map((h) => el('th', { text: h })))),
              el('tbody', {}, r.candidates.map((c) => el('tr', {},
                el('td', { text: c.ticket_id + (c.winner ? ' ✓ credited' : '') }),
                el('td', { text: SOURCES[c.message_source] }),
                el('td', { text: when(c.last_touch_at) }),
                el('td', { text: duration(c.distance_ms) + ' before' }))))));
        } }),
        receipt);
    });
    view.replaceChildren(
      el('a', { class: 'back', href: '#/', text: '← Revenue impact' }),
      el('div', { class: 'panel' },
        el('h1', { text: 'Conversation ' + t.ticket_id }),
        el('p', {}, el('span', { class: 'pill', text: SOURCES[t.message_source] }), ` AI profile ${t.ai_profile_id} · ${t.messages} messages · `,
          t.first_message_at ? el('span', { 'data-when': t.first_message_at, text: when(t.first_message_at) }) : ''),
        el('div', { class: 'cards' },
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Revenue' }), el('div', { class: 'value', 'data-total': 'checkout_revenue_usd', text: usd(t.totals.checkout_revenue_usd) })),
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Net of refunds' }), el('div', { class: 'value', text: usd(t.totals.net_checkout_revenue_usd) })),
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Cart GMV' }), el('div', { class: 'value', 'data-total': 'cart_gmv_usd', text: usd(t.totals.cart_gmv_usd) })),
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Orders' }), el('div', { class: 'value', text: count(t.totals.orders) })))),
      el('h2', { text: 'What happened, in order' }),
      el('section', { class: 'timeline' }, events.length ? events : el('p', { text: 'No attributed events yet.' })));
  }

  // ---- experiments ---------------------------------------------------------

  const STATUS = { scheduled: 'Scheduled', running: 'Running', ended: 'Ended' };
  const METRICS = [
    ['conversion_rate', 'Conversion rate'],
    ['revenue_per_visitor_usd', 'Revenue per visitor'],
    ['orders_per_visitor', 'Orders per visitor'],
    ['average_order_value_usd', 'Average order value'],
    ['cart_gmv_per_visitor_usd', 'Cart GMV per visitor'],
  ];
  // Days and times in the company's zone, with the month spelled out.
  const day = (iso) => iso ? new Date(iso).toLocaleDateString('en-US',
    { timeZone: state.company.timezone, year: 'numeric', month: 'short', day: 'numeric' }) : 'open-ended';
  const signedPct = (v) => v === null || v === undefined ? '—'
    : (v > 0 ? '+' : '') + (v * 100).toFixed(Math.abs(v) >= 1 ? 0 : 1) + ' %';

  function srmWarning(srm) {
    if (!srm.warning) return null;
    return el('p', { class: 'warning', role: 'alert', 'data-srm': 'warning',
      text: 'Visitors are not split the way the weights say (sample ratio mismatch, p = '
        + srm.p_value.toExponential(1) + '). Usually a widget ignores its arm or some pages never ask for it. '
        + 'Fix that before trusting these numbers.' });
  }

  async function renderExperiments(view) {
    view.replaceChildren(el('p', { class: 'loading', text: 'Loading experiments…' }));
    let list;
    try {
      list = (await api('/v1/experiments')).experiments;
    } catch (error) {
      return view.replaceChildren(el('p', { class: 'error', role: 'alert', text: 'Could not load the experiments: ' + error.message }));
    }
    const header = el('div', { class: 'panel' }, el('h1', { text: 'Experiments' }),
      el('p', { class: 'muted', text: 'Attribution says what happened after a conversation. An experiment says what the assistant caused: some visitors do not see it, or see another AI profile, and their orders are compared.' }));
    if (!list.length) {
      return view.replaceChildren(header, el('div', { class: 'panel empty', 'data-empty': 'experiments' },
        el('h2', { text: 'No experiments yet' }),
        el('p', { text: 'Start a holdout: a tenth of the visitors see no assistant.' }),
        el('pre', {}, el('code', { text: 'revtrace experiment add ai-holdout --company ' + state.company.company_id + ' --holdout-pct 10' })),
        el('p', {}, 'Then let the widget ask for the arm: ', el('code', { text: "revtrace('assign', 'ai-holdout')" }), ' (see docs/experiments.md).')));
    }
    const rows = list.map((e) => el('tr', { 'data-experiment': e.key },
      el('td', {}, el('a', { href: '#/experiments/' + encodeURIComponent(e.key), text: e.name }), el('div', { class: 'muted', text: e.key })),
      el('td', { text: e.kind === 'holdout' ? 'Holdout' : 'A/B test' }),
      el('td', {}, el('span', { class: 'pill status-' + e.status, text: STATUS[e.status] })),
      el('td', { text: day(e.starts_at) + ' – ' + day(e.ends_at) }),
      el('td', { text: e.arms.map((a) => a.name + ' ' + count(a.visitors)).join(' · ') }),
      el('td', {}, e.srm.warning ? el('span', { class: 'pill bad', text: '⚠ split mismatch' }) : el('span', { class: 'muted', text: 'split OK' }))));
    view.replaceChildren(header, el('div', { class: 'panel' }, el('table', { class: 'experiments' },
      el('thead', {}, el('tr', {}, ['Experiment', 'Kind', 'Status', 'Dates', 'Visitors per arm', 'Split'].map((h) => el('th', { text: h })))),
      el('tbody', {}, rows))));
  }

  // A forest plot: each metric's relative lift with its interval, around 0,
  // drawn in HTML so its text keeps its size on a phone.
  function forest(comparison, alpha) {
    const items = METRICS.map(([k, label]) => [label, comparison.metrics[k]]);
    const bounds = items.flatMap(([, m]) => [m.relative.ci_low, m.relative.ci_high]).filter((v) => v !== null && isFinite(v));
    const widest = Math.max(0, ...bounds.map(Math.abs));
    const reach = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 25, 50, 100].find((r) => r >= widest) || widest;
    const at = (v) => (50 + (Math.max(-reach, Math.min(reach, v)) / reach) * 50).toFixed(2) + '%';
    const rows = items.map(([label, m]) => {
      const r = m.relative;
      if (r.estimate === null) {
        return el('div', { class: 'forest-row' }, el('div', { class: 'forest-label', text: label }),
          el('div', { class: 'track' }, el('div', { class: 'zero', style: 'left:50%' }),
            el('span', { class: 'note', title: m.note, text: 'not estimable yet' })),
          el('div', { class: 'forest-value', text: '—' }));
      }
      const side = r.ci_low > 0 ? 'up' : r.ci_high < 0 ? 'down' : 'flat';
      const from = at(r.ci_low), to = at(r.ci_high);
      return el('div', { class: 'forest-row', title: `${signedPct(r.ci_low)} to ${signedPct(r.ci_high)}, p = ${r.p_value.toFixed(3)}` },
        el('div', { class: 'forest-label', text: label }),
        el('div', { class: 'track' }, el('div', { class: 'zero', style: 'left:50%' }),
          el('div', { class: 'ci ' + side, style: `left:${from};width:calc(${to} - ${from})` }),
          el('div', { class: 'dot ' + side, style: `left:${at(r.estimate)}` })),
        el('div', { class: 'forest-value ' + side, text: signedPct(r.estimate) }));
    });
    const axis = el('div', { class: 'forest-row axis' }, el('div'),
      el('div', { class: 'track ticks' }, [-reach, -reach / 2, 0, reach / 2, reach].map((t) =>
        el('span', { style: `left:${at(t)}`, text: signedPct(t) }))), el('div'));
    return el('div', { class: 'forest', role: 'img',
      'aria-label': `Relative lift of ${comparison.arm} against ${comparison.against}, ${Math.round((1 - alpha) * 100)} % intervals` },
      rows, axis);
  }

  async function renderExperiment(view, key) {
    view.replaceChildren(el('p', { class: 'loading', text: 'Loading the experiment…' }));
    let r;
    try {
      r = await api('/v1/experiments/' + encodeURIComponent(key));
    } catch (error) {
      return view.replaceChildren(el('a', { class: 'back', href: '#/experiments', text: '← Experiments' }),
        el('p', { class: 'error', role: 'alert', text: error.status === 404 ? 'No experiment ' + key + ' in this company.' : 'Could not load the experiment: ' + error.message }));
    }
    const arms = r.arms.map((a) => el('tr', { 'data-arm': a.name },
      el('td', {}, a.name + (a.name === r.control ? ' (control)' : ''), el('div', { class: 'muted',
        text: a.assistant ? (a.ai_profile_id ? 'profile ' + a.ai_profile_id : 'assistant shown') : 'assistant hidden' })),
      el('td', { class: 'num', text: count(a.visitors) }),
      el('td', { class: 'num', text: a.conversion_rate === null ? '—' : (a.conversion_rate * 100).toFixed(2) + ' %' }),
      el('td', { class: 'num', text: count(a.orders) }),
      el('td', { class: 'num', text: usd(a.revenue_usd) }),
      el('td', { class: 'num', text: a.revenue_per_visitor_usd === null ? '—' : usd(a.revenue_per_visitor_usd) }),
      el('td', { class: 'num', text: usd(a.attributed_revenue_usd) }),
      el('td', { class: 'num', text: count(a.visitors_with_tickets) })));
    const comparisons = r.comparisons.map((c) => {
      const inc = c.incremental_revenue_usd;
      const summary = inc.estimate === null
        ? `Attributed ${usd(c.attributed_revenue_usd)} — incremental revenue cannot be estimated yet (too few orders).`
        : `Attributed ${usd(c.attributed_revenue_usd)} — incremental ${usd(inc.estimate)} (${usd(inc.ci_low)} to ${usd(inc.ci_high)})`;
      return el('div', { class: 'panel', 'data-comparison': c.arm },
        el('h2', { text: `${c.arm} against ${c.against}` }),
        el('p', { class: 'headline', 'data-incremental': c.arm, text: summary }),
        c.incremental_share_of_attributed_pct === null ? null
          : el('p', { class: 'muted', text: r.kind === 'holdout'
            ? `The assistant caused about ${c.incremental_share_of_attributed_pct.toFixed(0)} % of what attribution credits to it.`
            : `Incremental revenue is about ${c.incremental_share_of_attributed_pct.toFixed(0)} % of what attribution credits to this arm.` }),
        forest(c, r.alpha),
        el('p', { class: 'muted', text: `Dots are the relative lift; lines the ${Math.round((1 - r.alpha) * 100)} % interval${r.sequential ? ' (sequential: valid however often you look)' : ''}. A line clear of 0 is a real difference.` }));
    });
    view.replaceChildren(
      el('a', { class: 'back', href: '#/experiments', text: '← Experiments' }),
      el('div', { class: 'panel' },
        el('h1', { text: r.name }),
        el('p', {}, el('span', { class: 'pill status-' + r.status, text: STATUS[r.status] }),
          ` ${r.kind === 'holdout' ? 'Holdout' : 'A/B test'} · ${day(r.starts_at)} – ${day(r.ends_at)} · control ${r.control}`
          + (r.revenue_cap_usd ? ` · revenue capped at ${usd(r.revenue_cap_usd)} per visitor` : '')),
        srmWarning(r.srm)),
      el('div', { class: 'panel scroll' }, el('table', { class: 'arms' },
        el('thead', {}, el('tr', {}, ['Arm', 'Visitors', 'Converted', 'Orders', 'Revenue', 'Per visitor', 'Attributed', 'With a conversation']
          .map((h, i) => el('th', { class: i ? 'num' : null, text: h })))),
        el('tbody', {}, arms))),
      ...comparisons);
  }

  // ---- routing -------------------------------------------------------------

  function route() {
    if (!state.company) return;
    const ticket = location.hash.match(/^#\/tickets\/(.+)$/);
    const experiment = location.hash.match(/^#\/experiments(?:\/(.+))?$/);
    $('overview').hidden = !!(ticket || experiment);
    $('conversation').hidden = !ticket;
    $('experiments').hidden = !experiment;
    document.querySelector('.filters').hidden = !!(ticket || experiment);
    document.querySelectorAll('#pages a').forEach((a) =>
      a.setAttribute('aria-current', (a.dataset.page === 'experiments') === !!experiment ? 'page' : 'false'));
    if (ticket) renderConversation(decodeURIComponent(ticket[1]));
    else if (experiment && experiment[1]) renderExperiment($('experiments'), decodeURIComponent(experiment[1]));
    else if (experiment) renderExperiments($('experiments'));
    else renderOverview();
  }
  window.addEventListener('hashchange', route);
  start();
})();
