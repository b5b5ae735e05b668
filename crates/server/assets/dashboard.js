// The revtrace dashboard: plain JavaScript over the documented API
// (/v1/company, /v1/revenue-impact, /daily, /v1/tickets, receipts). The
// secret key stays in this browser's localStorage and goes out as Bearer.
(function () {
  'use strict';
  const KEY = 'revtrace.secret_key';
  // The company the page's address belongs to: a key of another company
  // starts on its own overview, not on the last one's conversation.
  const LAST_COMPANY = 'revtrace.company_id';
  const $ = (id) => document.getElementById(id);
  // The overview's selection. It lives in the address (#/?days=90&tab=cart),
  // so a view can be shared and reloaded; `overviewHash` is the last one.
  const DEFAULTS = { days: 30, from: null, to: null, compare: 'previous_period', profile: '', source: '', tab: null };
  const state = Object.assign({ company: null }, DEFAULTS);
  let overviewHash = '#/';

  const SOURCES = { CHAT_WIDGET: 'Chat widget', FAQ: 'Product FAQ', NUDGE_CLICK: 'Proactive nudge' };
  const REASONS = {
    ATTRIBUTED: 'Credited to this conversation',
    NO_FINGERPRINT: 'No visitor fingerprint',
    NO_TICKET: 'No conversation under this visitor',
    NO_ANSWER_FOUND: 'No grounded AI answer before the event',
    OUTSIDE_WINDOW: 'Last grounded touch outside the window',
  };
  const COMPARED = { previous_period: 'vs previous period', last_year: 'vs same days last year' };

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

  async function call(path) {
    const response = await fetch(path, { headers: { Authorization: 'Bearer ' + localStorage.getItem(KEY) } });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = new Error((body.error && body.error.message) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return response;
  }
  const api = (path) => call(path).then((r) => r.json());

  const usd = (v) => v === null || v === undefined ? '—'
    : Number(v).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
  // An amount in its own currency, with its own decimals and separators
  // (¥4,800, €174.80).
  const money = (v, currency) => {
    if (v === null || v === undefined) return '—';
    try {
      return Number(v).toLocaleString('en-US', { style: 'currency', currency });
    } catch (e) {
      return `${v} ${currency}`;
    }
  };
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
  // A reporting day (YYYY-MM-DD, already the company's) spelled out.
  const dayLabel = (d, long) => new Date(d + 'T12:00:00Z').toLocaleDateString('en-US', long
    ? { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' }
    : { timeZone: 'UTC', month: 'short', day: 'numeric' });
  const DECIDED = { ingest: 'decided when the event arrived', reattribute: 'decided again by a replay (revtrace reattribute)' };

  function changeText(value, unit) {
    const sign = value > 0 ? '▲ ' : value < 0 ? '▼ ' : '';
    return el('span', { class: 'change ' + (value > 0 ? 'up' : value < 0 ? 'down' : ''),
      text: sign + Math.abs(value).toFixed(2) + unit + ' ' + COMPARED[state.compare] });
  }
  function change(value) {
    if (value === null || value === undefined) return el('span', { class: 'change', text: 'no earlier data' });
    return changeText(value, ' %');
  }

  // ---- sign in -------------------------------------------------------------

  function showSignIn(message) {
    for (const id of ['app', 'sign-out', 'pages']) $(id).hidden = true;
    $('company').textContent = '';
    $('sign-in').hidden = false;
    $('sign-in-error').textContent = message || '';
  }

  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    localStorage.setItem(KEY, $('key').value.trim());
    await start();
  });
  $('sign-out').addEventListener('click', () => {
    localStorage.removeItem(KEY);
    state.company = null;
    history.replaceState(null, '', location.pathname);
    showSignIn();
  });

  async function start() {
    if (!localStorage.getItem(KEY)) return showSignIn();
    try {
      state.company = await api('/v1/company');
    } catch (error) {
      localStorage.removeItem(KEY);
      // The API says why (a public pk_ key, an unknown or revoked key).
      return showSignIn(error.status === 401 && !error.message ? 'That key was not accepted.' : error.message);
    }
    const last = localStorage.getItem(LAST_COMPANY);
    if (last && last !== state.company.company_id) history.replaceState(null, '', location.pathname);
    localStorage.setItem(LAST_COMPANY, state.company.company_id);
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = false;
    $('pages').hidden = false;
    $('company').textContent = state.company.name + ' · ' + state.company.timezone;
    $('profile').replaceChildren(el('option', { value: '', text: 'All AI profiles' }),
      ...state.company.ai_profiles.map((p) => el('option', { value: p, text: p })));
    route();
  }

  // ---- the selection, in the address ---------------------------------------

  const isDay = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || '');
  const defaultTab = () => state.company && state.company.has_checkout_data ? 'checkout' : 'cart';

  function readView(hash) {
    const q = new URLSearchParams(hash.split('?')[1] || '');
    const v = Object.assign({}, DEFAULTS);
    if (isDay(q.get('from')) && isDay(q.get('to'))) Object.assign(v, { days: 'custom', from: q.get('from'), to: q.get('to') });
    else if (['7', '30', '90'].includes(q.get('days'))) v.days = Number(q.get('days'));
    if (COMPARED[q.get('compare')]) v.compare = q.get('compare');
    v.profile = q.get('ai_profile') || '';
    v.source = SOURCES[q.get('source')] ? q.get('source') : '';
    const tabs = state.company.has_checkout_data ? ['checkout', 'cart'] : ['cart'];
    v.tab = tabs.includes(q.get('tab')) ? q.get('tab') : defaultTab();
    return v;
  }

  function viewHash(v) {
    const q = new URLSearchParams();
    if (v.days === 'custom') { q.set('from', v.from); q.set('to', v.to); } else if (v.days !== 30) q.set('days', v.days);
    if (v.compare !== DEFAULTS.compare) q.set('compare', v.compare);
    if (v.profile) q.set('ai_profile', v.profile);
    if (v.source) q.set('source', v.source);
    if (v.tab && v.tab !== defaultTab()) q.set('tab', v.tab);
    const query = q.toString();
    return '#/' + (query ? '?' + query : '');
  }

  // A new selection goes into the address; the hashchange renders it.
  function select(changes) {
    const next = viewHash(Object.assign({}, state, changes));
    if (next === (location.hash || '#/')) renderOverview();
    else location.hash = next;
  }

  function showSelection() {
    $('custom-range').hidden = state.days !== 'custom';
    if (state.days === 'custom') { $('from').value = state.from; $('to').value = state.to; }
    $('profile').value = state.profile;
    $('source').value = state.source;
    $('compare').value = state.compare;
    $('range-error').textContent = '';
  }

  function range() {
    if (state.days === 'custom') return { from: state.from, to: state.to };
    const to = new Date();
    const from = new Date(to.getTime() - (state.days - 1) * 86400000);
    // Reporting days are the company's: format both ends in its zone.
    const day = (d) => d.toLocaleDateString('en-CA', { timeZone: state.company.timezone });
    return { from: day(from), to: day(to) };
  }

  function query(filtered) {
    const { from, to } = range();
    const q = new URLSearchParams({ from, to });
    if (filtered !== false) {
      if (state.profile) q.set('ai_profile', state.profile);
      if (state.source) q.set('source', state.source);
    }
    return q.toString();
  }

  const filtered = () => !!(state.profile || state.source);
  const filterLabel = () => [state.source && SOURCES[state.source], state.profile && 'profile ' + state.profile]
    .filter(Boolean).join(', ');

  document.querySelectorAll('.ranges button').forEach((b) => b.addEventListener('click', () => {
    const days = b.dataset.days;
    if (days === 'custom') {
      $('custom-range').hidden = false;
      const shown = range();
      $('from').value = $('from').value || shown.from;
      $('to').value = $('to').value || shown.to;
      return;
    }
    select({ days: Number(days) });
  }));
  $('apply-range').addEventListener('click', () => {
    const from = $('from').value, to = $('to').value;
    // Refused here, before any request: the old figures stay, labelled as such.
    const problem = !from || !to ? 'Pick both a first and a last day.'
      : from > to ? 'The first day comes after the last one.' : '';
    $('range-error').textContent = problem;
    if (problem) return;
    select({ days: 'custom', from, to });
  });
  $('profile').addEventListener('change', (e) => select({ profile: e.target.value }));
  $('source').addEventListener('change', (e) => select({ source: e.target.value }));
  $('compare').addEventListener('change', (e) => select({ compare: e.target.value }));

  // ---- downloads -----------------------------------------------------------

  function save(name, blob) {
    const a = el('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  const csvCell = (v) => {
    const text = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  };
  const fileName = (what, ext) => {
    const { from, to } = range();
    const filters = [state.source, state.profile].filter(Boolean).map((f) => '-' + f.replace(/[^\w-]+/g, '_')).join('');
    return `revtrace-${what}-${from}-to-${to}${filters}.${ext}`;
  };

  // The daily figures the page shows, exactly as the API gave them.
  let shownDaily = null;
  $('download-daily').addEventListener('click', () => {
    if (!shownDaily || !shownDaily.length) return;
    const columns = Object.keys(shownDaily[0]);
    const lines = [columns.join(',')].concat(shownDaily.map((d) => columns.map((c) => csvCell(d[c])).join(',')));
    save(fileName('daily', 'csv'), new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }));
  });
  $('download-events').addEventListener('click', async (e) => {
    const button = e.target;
    button.disabled = true;
    const { from, to } = range();
    try {
      const response = await call(`/v1/export/revenue-impact?format=csv&from=${from}&to=${to}`);
      save(fileName('events', 'csv'), await response.blob());
      $('overview-status').textContent = '';
    } catch (error) {
      $('overview-status').textContent = 'Could not download the events: ' + error.message;
      $('overview-status').className = 'status error';
    } finally {
      button.disabled = false;
    }
  });

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
  // Figures the filters do not narrow (SPEC §8: they apply to the attributed side).
  const WHOLE_STORE = new Set(['unattributed_checkout_revenue_usd']);

  function renderTabs() {
    const tabs = [];
    if (state.company.has_checkout_data) tabs.push(['checkout', 'Checkout revenue']);
    tabs.push(['cart', 'Cart GMV']);
    $('tabs').replaceChildren(...tabs.map(([id, label]) => el('button', {
      role: 'tab', 'data-tab': id, 'aria-selected': String(state.tab === id), text: label,
      onclick: () => select({ tab: id }),
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
    return changeText(Number(now) - Number(before), ' pts');
  }

  async function renderOverview() {
    renderTabs();
    showSelection();
    const load = ++overviewLoads;
    const q = query();
    $('overview').setAttribute('aria-busy', 'true');
    $('overview-status').textContent = 'Loading…';
    $('overview-status').className = 'status loading';
    let report, daily, conversations, whole, funnel;
    try {
      [report, daily, conversations, funnel, whole] = await Promise.all([
        api(`/v1/revenue-impact?compare=${state.compare}&` + q), api('/v1/revenue-impact/daily?' + q),
        api('/v1/tickets?limit=10&' + q), api('/v1/funnel?' + q),
        // Filtered, the chart still stacks up to the whole store's revenue.
        filtered() ? api('/v1/revenue-impact/daily?' + query(false)) : null,
      ]);
    } catch (error) {
      if (load !== overviewLoads) return;
      // No figures from another selection stay under this one.
      $('overview').removeAttribute('aria-busy');
      $('overview-status').textContent = 'Could not load these figures: ' + error.message;
      $('overview-status').className = 'status error';
      for (const id of ['cards', 'sources', 'profiles', 'funnel', 'conversion', 'conversations']) $(id).replaceChildren();
      clearChart($('profiles-canvas'));
      $('period').textContent = '';
      $('filter-note').hidden = true;
      shownDaily = null;
      drawChart(null);
      return;
    }
    if (load !== overviewLoads) return;
    $('overview').removeAttribute('aria-busy');
    $('overview-status').textContent = '';
    $('overview-status').className = 'status';
    $('period').textContent = `${dayLabel(report.from, true)} – ${dayLabel(report.to, true)} (${plural(report.days, 'day', 'days')}) · compared with ${dayLabel(report.previous.from, true)} – ${dayLabel(report.previous.to, true)}`
      + (report.metrics.unconverted_events ? ` · ${plural(report.metrics.unconverted_events, 'event', 'events')} without a currency rate left out` : '');
    $('filter-note').hidden = !filtered();
    $('filter-note').textContent = filtered()
      ? `Filtered to ${filterLabel()}: the AI-attributed figures are narrowed; the baseline, the AI share's total and the conversion panel are the whole store's.`
      : '';
    $('cards').replaceChildren(...CARDS[state.tab].map(([name, label, format]) => el('div', { class: 'card' },
      el('div', { class: 'label', text: label }),
      el('div', { class: 'value', 'data-metric': name, text: format(report.metrics[name]) }),
      name.startsWith('daily_avg') ? el('span', { class: 'change',
        text: `over ${plural(report.metrics.active_days, 'active day', 'active days')} of ${report.days}` }) : null,
      filtered() && WHOLE_STORE.has(name) ? el('span', { class: 'change', text: 'whole store' }) : null,
      changeOf(report, name))));
    shownDaily = daily.days;
    drawChart(daily.days, whole && whole.days);
    renderSources(report.by_source);
    renderProfiles(report.by_ai_profile);
    renderFunnel(funnel);
    renderConversion(report.metrics);
    renderConversations(conversations);
  }

  const cents = (v) => Math.round(Number(v) * 100);
  // A canvas's chart goes before a new one is drawn on it (or nothing is).
  const clearChart = (canvas) => {
    const old = window.Chart && window.Chart.getChart(canvas);
    if (old) old.destroy();
  };
  // Axis ticks: $0, $500, $1.5K.
  const dollarTick = (v) => '$' + Number(v).toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const CHART_COLOURS = { ai: '#4f46e5', other: '#a5b4fc', baseline: '#c3c9d6' };

  // The daily chart (Chart.js): stacked bars, a value axis with gridlines,
  // every series in the hover, a "no data" state instead of an empty frame.
  function drawChart(days, whole) {
    const checkout = state.tab === 'checkout';
    const canvas = $('chart-canvas');
    clearChart(canvas);
    $('chart-title').textContent = checkout ? 'Daily checkout revenue: AI-attributed and baseline' : 'Daily AI-attributed cart GMV';
    canvas.setAttribute('aria-label', $('chart-title').textContent);
    if (!days) {
      canvas.hidden = true;
      $('chart-empty').hidden = true;
      return;
    }
    const field = checkout ? 'checkout_revenue_usd' : 'cart_gmv_usd';
    // Series as cents, so the stack and the hover's total are exact.
    const series = [{ key: 'ai', label: filtered() ? `AI-attributed (${filterLabel()})` : 'AI-attributed',
      cents: days.map((d) => cents(d[field])) }];
    if (whole) {
      series.push({ key: 'other', label: 'Other AI-attributed',
        cents: whole.map((d, i) => cents(d[field]) - series[0].cents[i]) });
    }
    if (checkout) series.push({ key: 'baseline', label: 'Baseline (not attributed)', cents: days.map((d) => cents(d.unattributed_checkout_revenue_usd)) });
    const empty = series.every((s) => s.cents.every((c) => c === 0));
    canvas.hidden = empty;
    $('chart-empty').hidden = !empty;
    $('chart-empty').textContent = empty
      ? `No ${checkout ? 'checkout revenue' : 'cart GMV'} in this range (${plural(days.length, 'day', 'days')}).` : '';
    if (empty || !window.Chart) return;
    const phone = window.matchMedia('(max-width: 760px)').matches;
    const whole$ = (c) => usd(c / 100);
    new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: days.map((d) => dayLabel(d.day)),
        datasets: series.map((s) => ({ label: s.label, data: s.cents.map((c) => c / 100), backgroundColor: CHART_COLOURS[s.key],
          borderRadius: 2, maxBarThickness: 28, cents: s.cents })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false },
            ticks: { autoSkip: true, maxRotation: 0, maxTicksLimit: phone ? 4 : 8, font: { size: 12 } } },
          y: { stacked: true, beginAtZero: true, grid: { color: '#e3e7ef' }, border: { display: false },
            ticks: { maxTicksLimit: phone ? 4 : 6, font: { size: 12 },
              callback: dollarTick } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, font: { size: 12 } } },
          tooltip: { callbacks: {
            title: (items) => dayLabel(days[items[0].dataIndex].day, true),
            label: (item) => `${item.dataset.label}: ${whole$(item.dataset.cents[item.dataIndex])}`,
            footer: (items) => items.length > 1
              ? 'Total: ' + whole$(items.reduce((sum, item) => sum + item.dataset.cents[item.dataIndex], 0)) : '',
          } },
        },
      },
    });
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

  // Conversations → grounded → cart → checkout: bars as a share of all
  // conversations, each step's rate of the one before beside it.
  function renderFunnel(f) {
    const steps = [
      ['conversations', 'Conversations', null],
      ['grounded', 'Got a grounded answer', 'grounded_rate_pct'],
      ['with_cart', 'Added to cart', 'with_cart_rate_pct'],
      ['with_checkout', 'Checked out', 'with_checkout_rate_pct'],
    ];
    if (!f.conversations) {
      $('funnel').replaceChildren(el('p', { class: 'muted', 'data-empty': 'funnel', text: 'No conversation started in this range.' }));
      return;
    }
    const bar = (name, label, rate) => el('div', { class: 'funnel-step', 'data-step': name },
      el('div', { class: 'funnel-label' }, el('strong', { text: count(f[name]) }), ' ' + label),
      el('div', { class: 'meter' }, el('div', { style: `width: ${Math.min(100, (100 * f[name]) / f.conversations)}%` })),
      el('div', { class: 'funnel-rate', text: rate ? (f[rate] === null ? '—' : pct(f[rate]) + ' of the step before') : '' }));
    const median = f.median_minutes_to_checkout;
    const bySource = Object.entries(f.by_source).filter(([, s]) => s.conversations);
    $('funnel').replaceChildren(
      el('div', { class: 'funnel-steps' }, steps.map(([name, label, rate]) => bar(name, label, rate))),
      el('p', { class: 'muted', 'data-median': '', text: median === null ? 'No credited checkout yet.'
        : `Half of the checkouts came within ${duration(median * 60000)} of the conversation's first message.` }),
      el('div', { class: 'scroll' }, el('table', { class: 'funnel-sources' },
        el('thead', {}, el('tr', {}, ['Source', 'Started', 'Grounded', 'Cart', 'Checkout', 'Median to checkout']
          .map((h, i) => el('th', { class: i ? 'num' : null, text: h })))),
        el('tbody', {}, bySource.map(([source, s]) => el('tr', { 'data-source': source },
          el('td', { text: SOURCES[source] }), el('td', { class: 'num', text: count(s.conversations) }),
          el('td', { class: 'num', text: count(s.grounded) }), el('td', { class: 'num', text: count(s.with_cart) }),
          el('td', { class: 'num', text: count(s.with_checkout) }),
          el('td', { class: 'num', text: s.median_minutes_to_checkout === null ? '—' : duration(s.median_minutes_to_checkout * 60000) })))))));
  }

  // Every AI profile's attributed figures in one table, and their revenue
  // (or cart GMV) as bars: a comparison, not a filter.
  function renderProfiles(byProfile) {
    const checkout = state.tab === 'checkout';
    const canvas = $('profiles-canvas');
    clearChart(canvas);
    const entries = Object.entries(byProfile || {}).sort((a, b) =>
      cents(checkout ? b[1].checkout_revenue_usd : b[1].cart_gmv_usd) - cents(checkout ? a[1].checkout_revenue_usd : a[1].cart_gmv_usd));
    canvas.parentElement.hidden = !entries.length;
    if (!entries.length) {
      $('profiles').replaceChildren(el('tbody', {}, el('tr', {}, el('td', { class: 'muted', text: 'No attributed events in this range yet.' }))));
      return;
    }
    const columns = checkout
      ? [['Revenue', (m) => usd(m.checkout_revenue_usd)], ['Orders', (m) => count(m.orders)],
        ['Average order', (m) => usd(m.average_order_value_usd)], ['Net of refunds', (m) => usd(m.net_checkout_revenue_usd)]]
      : [['Cart GMV', (m) => usd(m.cart_gmv_usd)], ['Products', (m) => count(m.products_in_cart)],
        ['Per active day', (m) => usd(m.daily_avg_cart_gmv_usd)], ['Active days', (m) => count(m.active_days)]];
    $('profiles').replaceChildren(
      el('thead', {}, el('tr', {}, el('th', { text: 'AI profile' }), columns.map(([h]) => el('th', { class: 'num', text: h })))),
      el('tbody', {}, entries.map(([profile, m]) => el('tr', { 'data-profile': profile },
        el('td', { text: profile }), columns.map(([, f]) => el('td', { class: 'num', text: f(m) }))))));
    if (!window.Chart) return;
    const field = checkout ? 'checkout_revenue_usd' : 'cart_gmv_usd';
    new window.Chart(canvas, {
      type: 'bar',
      data: { labels: entries.map(([p]) => p),
        datasets: [{ label: checkout ? 'AI-attributed revenue' : 'AI-attributed cart GMV', backgroundColor: CHART_COLOURS.ai,
          borderRadius: 2, maxBarThickness: 22, data: entries.map(([, m]) => Number(m[field])) }] },
      options: { indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { beginAtZero: true, grid: { color: '#e3e7ef' }, ticks: { maxTicksLimit: 4, font: { size: 12 },
          callback: dollarTick } },
        y: { grid: { display: false }, ticks: { font: { size: 12 } } } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${usd(entries[item.dataIndex][1][field])}` } } } },
    });
  }

  function renderConversion(m) {
    const meter = (label, rate, visitors, plain) => el('div', {},
      el('div', {}, el('strong', { 'data-metric': label === 'Assisted' ? 'assisted_conversion_rate_pct' : 'unassisted_conversion_rate_pct', text: pct(rate) }),
        ` ${label} · ${plural(visitors, 'visitor', 'visitors')}`),
      el('div', { class: 'meter' + (plain ? ' plain' : '') }, el('div', { style: `width: ${Math.min(100, rate || 0)}%` })));
    $('conversion-scope').textContent = filtered() ? '· whole store, filters do not apply' : '';
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

  // ---- a new company: connect the store ------------------------------------

  let setupPoll = null;

  function renderOnboarding() {
    const c = state.company;
    const snippet = `<script src="${location.origin}/sdk/revtrace.js" data-company-key="${c.company_key}" data-shopify defer></script>`;
    const copy = (text) => (e) => {
      const button = e.target;
      navigator.clipboard.writeText(text).then(() => { button.textContent = 'Copied'; }, () => { button.textContent = 'Select and copy'; });
    };
    const check = (done, label, waiting) => el('li', { class: done ? 'done' : 'waiting', 'data-check': label },
      el('span', { class: 'mark', text: done ? '✓' : '…' }), done ? label : `${label}: ${waiting}`);
    const checked = new Date().toLocaleTimeString('en-US', { timeZone: c.timezone, hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
    $('onboarding').replaceChildren(el('div', { class: 'panel onboarding' },
      el('h1', { text: `Connect ${c.name}` }),
      el('p', { class: 'muted', text: 'Nothing has arrived yet. Three steps, and this page fills itself as they land.' }),
      el('h2', { text: '1. The browser script, in your theme before </head>' }),
      el('pre', {}, el('code', { 'data-snippet': '', text: snippet })),
      el('p', {}, el('button', { onclick: copy(snippet), text: 'Copy the snippet' }),
        ' Your public key: ', el('code', { 'data-company-key': '', text: c.company_key }),
        ' (safe in pages: it can only send events).'),
      el('p', { class: 'muted' }, 'Allow your store\'s address first: ',
        el('code', { text: `revtrace company origins --company ${c.company_id} --add https://your-store.example` })),
      el('h2', { text: '2. Your assistant\'s conversations' }),
      el('p', {}, 'Give the assistant the visitor\'s ', el('code', { text: "revtrace('fingerprint')" }),
        ' and send each conversation to ', el('code', { text: 'POST /analytics/tickets' }),
        ' with that fingerprint (see the README\'s quick start).'),
      el('h2', { text: '3. What has arrived' }),
      el('ul', { class: 'checklist' },
        check(c.setup.script_seen, 'Browser script seen on a page', 'waiting for the first visit'),
        check(c.setup.has_tickets, 'Conversations arriving', 'waiting for the first ticket'),
        check(c.setup.has_events, 'Cart and checkout events arriving', 'waiting for the first event')),
      el('p', { class: 'muted', 'data-checked': '', text: `Checked every 3 seconds · last ${checked}` })));
  }

  function stopSetupPoll() {
    if (setupPoll) clearTimeout(setupPoll);
    setupPoll = null;
  }

  // Asks again every 3 s; the first event opens the dashboard.
  function pollSetup() {
    stopSetupPoll();
    setupPoll = setTimeout(async () => {
      try {
        state.company = await api('/v1/company');
      } catch (error) {
        if (error.status === 401) return start();
      }
      if (!$('onboarding').hidden) route();
    }, 3000);
  }

  // ---- one conversation ----------------------------------------------------

  // Identical lines (a theme sending the same variant twice) shown once.
  function mergedLines(products) {
    const byKey = new Map();
    for (const p of products) {
      const key = [p.product_id, p.variant_id, p.unit_price].join('\u0000');
      const seen = byKey.get(key);
      if (seen) seen.quantity += Number(p.quantity);
      else byKey.set(key, Object.assign({}, p, { quantity: Number(p.quantity) }));
    }
    return [...byKey.values()];
  }

  async function renderConversation(ticketId) {
    const view = $('conversation');
    const back = () => el('a', { class: 'back', href: overviewHash, text: '← Revenue impact' });
    view.replaceChildren(el('p', { class: 'loading', text: 'Loading the conversation…' }));
    let t;
    try {
      t = await api('/v1/tickets/' + encodeURIComponent(ticketId) + '/revenue');
    } catch (error) {
      view.replaceChildren(back(), el('p', { class: 'error', role: 'alert',
        text: error.status === 404 ? `No conversation ${ticketId} in ${state.company.name}.` : 'Could not load the conversation: ' + error.message }));
      return;
    }
    const foreign = t.events.some((e) => e.currency !== 'USD');
    const events = t.events.map((e) => {
      const receipt = el('div', { class: 'receipt' });
      const products = mergedLines(e.products).map((p) => el('div', { class: 'product' },
        p.image_url ? el('img', { src: p.image_url, alt: '' }) : null,
        el('div', {},
          p.url ? el('a', { href: p.url, target: '_blank', rel: 'noopener', text: p.title || p.product_id })
            : el('span', { text: p.title || p.product_id }),
          el('div', { class: 'period', 'data-line': '', text: `${p.quantity} × ${money(p.unit_price, e.currency)}` }))));
      // The amount as the store charged it, and what it counts for in USD.
      const original = e.currency === 'USD' ? '' : money(e.amount, e.currency) + ' = ';
      const converted = e.usd_value === null ? 'no USD rate for ' + e.currency : usd(e.usd_value);
      return el('article', { class: 'event', 'data-event': e.event_id },
        el('header', {},
          el('div', {}, el('strong', { text: e.cart_type === 'CHECKOUT' ? `Order ${e.order_id}` : e.event_type.replace(/_/g, ' ').toLowerCase() }),
            ' ', el('span', { class: 'period', 'data-when': e.occurred_at, text: when(e.occurred_at) }),
            e.cancelled ? el('span', { class: 'pill', text: 'cancelled' }) : null,
            e.is_test ? el('span', { class: 'pill', text: 'test' }) : null),
          el('div', { class: 'amount', 'data-usd': e.usd_value, text: original + converted +
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
    const ROLES = { shopper: 'Shopper', ai: 'AI assistant', human_agent: 'Human agent' };
    const exchange = t.transcript.map((m) => el('article', { class: 'message ' + m.role, 'data-message': m.message_id },
      el('header', {}, el('strong', { text: ROLES[m.role] || m.role }), ' ',
        el('span', { class: 'period', 'data-when': m.sent_at, text: when(m.sent_at) }),
        m.role === 'ai' && m.has_answer_found === true ? el('span', { class: 'pill grounded', text: 'grounded answer' }) : null,
        m.role === 'ai' && m.has_answer_found === false ? el('span', { class: 'pill', text: 'no answer found' }) : null),
      el('p', { class: m.text === null ? 'muted' : null, text: m.text === null ? '(no text kept)' : m.text }),
      m.products.length ? el('div', { class: 'products shown' }, m.products.map((p) => el('div', { class: 'product', 'data-shown': p.product_id },
        p.image_url ? el('img', { src: p.image_url, alt: '' }) : null,
        p.url ? el('a', { href: p.url, target: '_blank', rel: 'noopener', text: p.title || p.product_id })
          : el('span', { text: p.title || p.product_id })))) : null));
    view.replaceChildren(
      back(),
      el('div', { class: 'panel' },
        el('h1', { text: 'Conversation ' + t.ticket_id }),
        el('p', {}, el('span', { class: 'pill', text: SOURCES[t.message_source] }),
          ` AI profile ${t.ai_profile_id} · ${plural(t.messages, 'message', 'messages')} · `,
          t.first_message_at ? el('span', { 'data-when': t.first_message_at, text: when(t.first_message_at) }) : ''),
        el('div', { class: 'cards' },
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Revenue' }), el('div', { class: 'value', 'data-total': 'checkout_revenue_usd', text: usd(t.totals.checkout_revenue_usd) })),
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Net of refunds' }), el('div', { class: 'value', text: usd(t.totals.net_checkout_revenue_usd) })),
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Cart GMV' }), el('div', { class: 'value', 'data-total': 'cart_gmv_usd', text: usd(t.totals.cart_gmv_usd) })),
          el('div', { class: 'card' }, el('div', { class: 'label', text: 'Orders' }), el('div', { class: 'value', text: count(t.totals.orders) }))),
        foreign ? el('p', { class: 'muted', 'data-conversion-note': '', text: 'Amounts in other currencies are converted to USD one event at a time, '
          + 'each rounded to the cent, so a cart\'s sum and its order can differ by a cent.' }) : null),
      el('div', { class: 'journey' },
        el('section', {}, el('h2', { text: 'The conversation' }),
          el('div', { class: 'exchange' }, exchange.length ? exchange : el('p', { class: 'muted', text: 'No messages stored.' }))),
        el('section', {}, el('h2', { text: 'What happened, in order' }),
          el('div', { class: 'timeline' }, events.length ? events : el('p', { class: 'muted', text: 'No attributed events yet.' })))));
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
    stopSetupPoll();
    const hash = location.hash || '#/';
    const ticket = hash.match(/^#\/tickets\/(.+)$/);
    const experiment = hash.match(/^#\/experiments(?:\/(.+))?$/);
    const overview = !ticket && !experiment;
    // A company with no event yet gets its setup page instead of zeros.
    const setup = overview && !state.company.setup.has_events;
    $('onboarding').hidden = !setup;
    $('overview').hidden = !overview || setup;
    $('conversation').hidden = !ticket;
    $('experiments').hidden = !experiment;
    document.querySelector('.filters').hidden = !overview || setup;
    document.querySelectorAll('#pages a').forEach((a) =>
      a.setAttribute('aria-current', (a.dataset.page === 'experiments') === !!experiment ? 'page' : 'false'));
    if (overview) overviewHash = hash;
    document.querySelector('#pages a[data-page=overview]').setAttribute('href', overviewHash);
    if (ticket) renderConversation(decodeURIComponent(ticket[1]));
    else if (experiment && experiment[1]) renderExperiment($('experiments'), decodeURIComponent(experiment[1]));
    else if (experiment) renderExperiments($('experiments'));
    else if (setup) { renderOnboarding(); pollSetup(); }
    else {
      Object.assign(state, readView(hash));
      renderOverview();
    }
  }
  window.addEventListener('hashchange', route);
  start();
})();
