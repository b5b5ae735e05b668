// Drives Debian's chromium (headless) through a scenario and prints what it
// saw as JSON; the Rust tests in crates/cli/tests/api/browser.rs start the
// servers, run this, and check the answers and the stored rows.
//
//   node drive.mjs storefront STORE_URL
//   node drive.mjs navigating STORE_URL   (cart type "page": /cart after each add)
//   node drive.mjs drawer STORE_URL       (a cart drawer re-rendering sections)
//   node drive.mjs dashboard APP_URL SECRET_KEY FROM TO
//   node drive.mjs views APP_URL SECRET_KEY FROM TO EMPTY_DAY
//   node drive.mjs onboarding APP_URL SECRET_KEY COMPANY_KEY
//   node drive.mjs switch APP_URL SECRET_KEY_A SECRET_KEY_B TICKET_ID
//   node drive.mjs conversation APP_URL SECRET_KEY TICKET_ID
//   node drive.mjs assign STORE_URL EXPERIMENT
//   node drive.mjs experiments APP_URL SECRET_KEY KEY SHOTS_DIR
import { chromium } from 'playwright-core';

const [scenario, ...args] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
// A browser elsewhere than the company: its times must not leak into the page.
const page = await browser.newPage({ timezoneId: process.env.BROWSER_TZ || 'Europe/Berlin', locale: 'en-GB' });
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
// Every answer the page asked for and did not get (a missing asset, a favicon).
const missing = [];
page.on('response', (r) => { if (r.status() === 404 && !r.url().includes('/v1/')) missing.push(r.url()); });

async function signIn(url, key) {
  await page.goto(url);
  await page.fill('#key', key);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
}

async function cards() {
  await page.waitForSelector('[data-metric]');
  return page.$$eval('[data-metric]', (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.metric, n.textContent])));
}

// Waits until the page's network settles (the script's events go out async).
const settle = () => page.waitForLoadState('networkidle').then(() => page.waitForTimeout(300));

const out = {};
try {
  if (scenario === 'storefront') {
    await page.goto(args[0]);
    await page.waitForFunction(() => window.revtrace && window.revtrace.loaded);
    await settle();
    out.fingerprint = await page.evaluate(() => window.revtrace('fingerprint'));
    for (const button of ['add-fetch', 'add-xhr', 'change-down', 'update-up', 'remove', 'clear']) {
      await page.click('#' + button);
      await page.waitForFunction((b) => document.body.dataset.done === b, button);
      await settle();
    }
  } else if (scenario === 'navigating') {
    // A theme whose cart type is "page": every add sends the browser to /cart.
    const [store] = args;
    const loaded = () => page.waitForFunction(() => window.revtrace && window.revtrace.loaded);
    out.pages = [];
    await page.goto(store + '/product');
    await loaded();
    for (let i = 0; i < 2; i++) {
      if (i) {
        await page.click('#back');
        await page.waitForURL('**/product');
        await loaded();
      }
      await page.click('#add');
      await page.waitForURL('**/cart');
      await loaded();
      out.pages.push(new URL(page.url()).pathname);
      await settle();
    }
    out.fingerprint = await page.evaluate(() => window.revtrace('fingerprint'));
    await page.click('#cart-items .remove');
    await page.waitForFunction(() => document.body.dataset.done === 'changed-0');
    await settle();
  } else if (scenario === 'drawer') {
    // A cart drawer: the add and every quantity button re-render its section.
    const [store] = args;
    await page.goto(store + '/drawer');
    await page.waitForFunction(() => window.revtrace && window.revtrace.loaded);
    await settle();
    const drawer = () => page.$$eval('#drawer .line', (n) => n.map((x) => x.firstChild.textContent + x.querySelector('b').textContent))
      .then((lines) => lines.join(''));
    out.drawer = [];
    await page.click('#add');
    await page.waitForFunction(() => document.body.dataset.done === 'added');
    out.drawer.push(await drawer());
    await page.click('#drawer .plus');
    await page.waitForFunction(() => document.body.dataset.done === 'changed-2');
    out.drawer.push(await drawer());
    await page.click('#drawer .remove');
    await page.waitForFunction(() => document.body.dataset.done === 'changed-0');
    out.drawer.push(await drawer());
    await settle();
    out.fingerprint = await page.evaluate(() => window.revtrace('fingerprint'));
  } else if (scenario === 'assign') {
    // The widget vendor's snippet: ask for the arm, then hide the assistant
    // or switch its profile. A reload asks again, within the same session.
    const [url, key] = args;
    const ask = () => page.evaluate((k) => window.revtrace('assign', k), key);
    await page.goto(url);
    await page.waitForFunction(() => window.revtrace && window.revtrace.loaded);
    out.first = await ask();
    out.again = await ask();
    await page.reload();
    await page.waitForFunction(() => window.revtrace && window.revtrace.loaded);
    out.reloaded = await ask();
    out.fingerprint = await page.evaluate(() => window.revtrace('fingerprint'));
    out.unknown = await page.evaluate(() => window.revtrace('assign', 'nope').then(() => 'resolved', (e) => e.message));
    await settle();
  } else if (scenario === 'experiments') {
    // The list, then one experiment, at a desktop's width and a phone's.
    const [url, key, experiment, shots] = args;
    await signIn(url, key);
    await page.goto(url + '#/experiments');
    await page.waitForSelector('#experiments [data-experiment], #experiments [data-empty]');
    out.list = await page.$$eval('#experiments tr[data-experiment]', (rows) =>
      rows.map((r) => ({ key: r.dataset.experiment, cells: [...r.cells].map((c) => c.textContent) })));
    out.current = await page.getAttribute('#pages a[data-page=experiments]', 'aria-current');
    await page.click(`tr[data-experiment="${experiment}"] a`);
    await page.waitForSelector('#experiments [data-arm]');
    out.arms = await page.$$eval('#experiments tr[data-arm]', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    out.headlines = await page.$$eval('[data-incremental]', (n) => n.map((x) => x.textContent));
    out.srm = await page.$$eval('[data-srm]', (n) => n.map((x) => x.textContent));
    out.forest = await page.$$eval('[data-comparison] .forest .dot', (n) => n.length);
    out.not_estimable = await page.$$eval('[data-comparison] .forest .note', (n) => n.length);
    for (const [width, height] of [[1280, 900], [390, 844]]) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(200);
      out['overflow_' + width] = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      if (shots) await page.screenshot({ path: `${shots}/experiment-${width}.png`, fullPage: true });
    }
    await page.goto(url + '#/experiments/nope');
    await page.waitForSelector('#experiments .error');
    out.missing = await page.textContent('#experiments .error');
  } else if (scenario === 'signin') {
    // A key the dashboard cannot use: what does the page say?
    const [url, key] = args;
    await page.goto(url);
    await page.fill('#key', key);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('sign-in-error').textContent !== '');
    out.error = await page.textContent('#sign-in-error');
  } else if (scenario === 'dashboard') {
    const [url, key, from, to] = args;
    await signIn(url, key);
    out.tabs = await page.$$eval('#tabs [role=tab]', (tabs) => tabs.map((t) => t.dataset.tab));
    // A tab's icon comes with the page: a browser asks /favicon.ico otherwise (a 404).
    out.icon = await page.evaluate(() => (document.querySelector('link[rel=icon]') || {}).href || null);
    await page.click('button[data-days="custom"]');
    await page.fill('#from', from);
    await page.fill('#to', to);
    await page.click('#apply-range');
    await page.waitForFunction((f) => location.hash.includes(f) && !document.getElementById('overview').hasAttribute('aria-busy')
      && document.getElementById('period').textContent !== '', from);
    out.checkout = await cards();
    out.conversion = await page.$$eval('#conversion [data-metric]', (n) => n.map((x) => x.textContent));
    out.sources = await page.$$eval('#sources tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    if (out.tabs.includes('cart')) {
      await page.click('#tabs [data-tab=cart]');
      await page.waitForSelector('[data-metric="cart_gmv_usd"]');
      out.cart = await cards();
    }
    await page.click('#tabs [data-tab=' + out.tabs[0] + ']');
    await page.selectOption('#source', 'FAQ');
    await page.waitForFunction(() => document.querySelector('#sources tbody tr[data-source=CHAT_WIDGET] td:nth-child(2)')
      .textContent === '$0.00');
    out.faq = await cards();
    out.conversations = await page.$$eval('#conversations a', (links) => links.map((a) => a.textContent));
    await page.selectOption('#source', '');
    await page.waitForFunction(() => !document.getElementById('overview').hasAttribute('aria-busy'));
    out.changes = await page.$$eval('#cards .card', (cards) => Object.fromEntries(cards.map((c) =>
      [c.querySelector('[data-metric]').dataset.metric, [...c.querySelectorAll('.change')].map((x) => x.textContent)])));
    // A reversed range is refused before any request; the figures stay.
    const before = await page.textContent('#period');
    await page.click('button[data-days="custom"]');
    await page.fill('#from', to);
    await page.fill('#to', from);
    await page.click('#apply-range');
    out.reversed = await page.textContent('#range-error');
    out.period_after_reversed = (await page.textContent('#period')) === before;
    // A range the API refuses: the error is shown and no old figure stays.
    await page.fill('#from', '1990-01-01');
    await page.fill('#to', to);
    await page.click('#apply-range');
    await page.waitForFunction(() => document.getElementById('overview-status').classList.contains('error'));
    out.failed = await page.textContent('#overview-status');
    out.cards_after_failure = await page.$$eval('#cards [data-metric]', (n) => n.length);
    out.chart_after_failure = await page.evaluate(() => !!window.Chart.getChart(document.getElementById('chart-canvas')));
  } else if (scenario === 'views') {
    // The chart, the address, the comparison, the downloads, the filters' scope.
    const [url, key, from, to, emptyDay] = args;
    await signIn(url, key);
    const busy = () => page.waitForFunction(() => !document.getElementById('overview').hasAttribute('aria-busy'));
    await page.goto(`${url}#/?from=${from}&to=${to}`);
    await page.waitForFunction((f) => document.getElementById('period').textContent.includes(f), 'compared with');
    await busy();
    out.period = await page.textContent('#period');
    const chart = () => page.evaluate(() => {
      const c = window.Chart.getChart(document.getElementById('chart-canvas'));
      if (!c) return null;
      return { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })),
        y_ticks: c.scales.y.ticks.map((t) => t.label), x_grid: c.options.scales.x.grid.display,
        y_grid: c.options.scales.y.grid.display !== false, mode: c.options.interaction.mode };
    });
    out.chart = await chart();
    out.funnel = await page.$$eval('#funnel [data-step]', (n) => n.map((x) => [x.dataset.step,
      x.querySelector('.funnel-label').textContent, x.querySelector('.funnel-rate').textContent]));
    out.funnel_median = await page.textContent('#funnel [data-median]');
    out.funnel_sources = await page.$$eval('#funnel tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    out.profiles = await page.$$eval('#profiles tbody tr[data-profile]', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    out.profiles_chart = await page.evaluate(() => {
      const c = window.Chart.getChart(document.getElementById('profiles-canvas'));
      return c && { labels: c.data.labels, data: c.data.datasets[0].data };
    });
    // A real hover over the busiest day: the tooltip lists every series.
    out.tooltip = await (async () => {
      await page.locator('#chart-canvas').scrollIntoViewIfNeeded();
      const at = await page.evaluate(() => {
        const c = window.Chart.getChart(document.getElementById('chart-canvas'));
        const totals = c.data.labels.map((_, i) => c.data.datasets.reduce((s, d) => s + d.data[i], 0));
        const i = totals.indexOf(Math.max(...totals));
        const bar = c.getDatasetMeta(0).data[i];
        const box = c.canvas.getBoundingClientRect();
        return { x: box.left + bar.x, y: box.top + Math.min(bar.y, bar.base) + 2, i };
      });
      await page.mouse.move(at.x, at.y);
      await page.waitForTimeout(150);
      return page.evaluate(() => {
        const t = window.Chart.getChart(document.getElementById('chart-canvas')).tooltip;
        return { title: t.title, body: t.body.map((b) => b.lines).flat(), footer: t.footer };
      });
    })();
    // The download is the daily figures shown.
    const [daily] = await Promise.all([page.waitForEvent('download'), page.click('#download-daily')]);
    out.daily_csv_name = daily.suggestedFilename();
    out.daily_csv = await (await import('node:fs/promises')).readFile(await daily.path(), 'utf8');
    const [events] = await Promise.all([page.waitForEvent('download'), page.click('#download-events')]);
    out.events_csv = (await (await import('node:fs/promises')).readFile(await events.path(), 'utf8')).split('\n')[0];
    // A filter: into the address, a note on what it narrows, the other AI share in the stack.
    await page.selectOption('#source', 'FAQ');
    await page.waitForFunction(() => location.hash.includes('source=FAQ'));
    await busy();
    out.filtered_hash = await page.evaluate(() => location.hash);
    out.filter_note = await page.textContent('#filter-note');
    out.conversion_scope = await page.textContent('#conversion-scope');
    out.filtered_chart = await chart();
    await page.selectOption('#compare', 'last_year');
    await page.waitForFunction(() => location.hash.includes('compare=last_year'));
    await busy();
    out.compared_period = await page.textContent('#period');
    out.compared_change = await page.textContent('#cards .card .change');
    await page.click('#tabs [data-tab=cart]');
    await page.waitForFunction(() => location.hash.includes('tab=cart'));
    await busy();
    // The same address, reloaded: the same view.
    const hash = await page.evaluate(() => location.hash);
    const shown = await cards();
    await page.reload();
    await page.waitForSelector('#app:not([hidden])');
    await busy();
    await page.waitForSelector('[data-metric="cart_gmv_usd"]');
    out.reloaded = { hash: await page.evaluate(() => location.hash), same: JSON.stringify(await cards()) === JSON.stringify(shown),
      source: await page.inputValue('#source'), compare: await page.inputValue('#compare'),
      tab: await page.getAttribute('#tabs [aria-selected=true]', 'data-tab') };
    // Back in history: the filter goes again.
    await page.goBack();
    await page.waitForFunction(() => !location.hash.includes('tab=cart'));
    await busy();
    out.back_tab = await page.getAttribute('#tabs [aria-selected=true]', 'data-tab');
    // One quiet day: "no data" instead of an empty frame, and singular nouns.
    await page.goto(`${url}#/?from=${emptyDay}&to=${emptyDay}`);
    await page.waitForFunction((d) => location.hash.includes(d), emptyDay);
    await busy();
    await page.waitForFunction(() => !document.getElementById('chart-empty').hidden);
    out.empty = { text: await page.textContent('#chart-empty'), canvas_hidden: await page.evaluate(() => document.getElementById('chart-canvas').hidden),
      period: await page.textContent('#period') };
    for (const [width, height] of [[1280, 900], [390, 844]]) {
      await page.setViewportSize({ width, height });
      await page.goto(`${url}#/?from=${from}&to=${to}`);
      await busy();
      await page.waitForTimeout(200);
      out['overflow_' + width] = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      out['y_ticks_' + width] = (await chart()).y_ticks.length;
    }
  } else if (scenario === 'onboarding') {
    // A new company: its key and snippet, then its first events, live.
    const [url, key, companyKey] = args;
    await signIn(url, key);
    await page.waitForSelector('#onboarding [data-snippet]');
    out.snippet = await page.textContent('#onboarding [data-snippet]');
    out.filters_hidden = await page.evaluate(() => document.querySelector('.filters').hidden);
    const checks = () => page.$$eval('#onboarding [data-check]', (n) => n.map((x) => x.className));
    out.before = await checks();
    const send = (path, body) => fetch(url.replace(/\/$/, '') + path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(Object.assign({ company_key: companyKey }, body)) }).then((r) => r.status);
    out.sent = [await send('/analytics/visits', { user_fingerprint: 'FP-new' })];
    await page.waitForFunction(() => document.querySelector('#onboarding [data-check]').className === 'done', null, { timeout: 10000 });
    out.after_visit = await checks();
    out.sent.push(await send('/analytics/tickets', { ticket_id: 'TK-1', channel: 'chat', fingerprint: 'FP-new',
      messages: [{ message_id: 'm', sent_at: new Date(Date.now() - 60000).toISOString(), role: 'ai', text: 'Try the cream', has_answer_found: true }] }));
    out.sent.push(await send('/analytics/cart_events', { user_fingerprint: 'FP-new', event_type: 'ITEM_ADDED', product_id: 'cream',
      quantity: 1, unit_price: '48.00', currency: 'USD' }));
    // The first event opens the dashboard by itself.
    await page.waitForSelector('#overview:not([hidden]) [data-metric]', { timeout: 10000 });
    out.opened = await page.evaluate(() => document.getElementById('onboarding').hidden);
    out.conversion = await page.textContent('#conversion');
  } else if (scenario === 'switch') {
    // Company A's conversation is open; A signs out and B signs in.
    const [url, keyA, keyB, ticket] = args;
    await signIn(url, keyA);
    await page.goto(url + '#/tickets/' + encodeURIComponent(ticket));
    await page.waitForSelector('.event');
    await page.click('#sign-out');
    await page.fill('#key', keyB);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForTimeout(300);
    out.hash = await page.evaluate(() => location.hash);
    out.conversation_hidden = await page.evaluate(() => document.getElementById('conversation').hidden);
    // A shared link to a view opens on it for whoever signs in next, once the
    // same company's key is used.
    await page.goto(url + '#/tickets/' + encodeURIComponent(ticket));
    await page.waitForSelector('#conversation .error, .event');
    out.other_company = await page.textContent('#conversation');
  } else if (scenario === 'conversation') {
    const [url, key, ticket] = args;
    await signIn(url, key);
    await page.goto(url + '#/tickets/' + encodeURIComponent(ticket));
    await page.waitForSelector('.event');
    out.title = await page.textContent('#conversation h1');
    out.times = await page.$$eval('#conversation [data-when]', (n) => n.map((x) => [x.dataset.when, x.textContent]));
    out.events = await page.$$eval('.event', (events) => events.map((e) => ({
      heading: e.querySelector('header strong').textContent,
      usd: e.querySelector('.amount').textContent,
      products: [...e.querySelectorAll('.product')].map((p) => ({
        title: p.querySelector('a, span').textContent,
        link: p.querySelector('a') && p.querySelector('a').href,
        image: p.querySelector('img') && p.querySelector('img').getAttribute('src'),
      })),
    })));
    out.total = await page.textContent('[data-total="checkout_revenue_usd"]');
    out.lines = await page.$$eval('.event [data-line]', (n) => n.map((x) => x.textContent));
    out.amounts = await page.$$eval('.event .amount', (n) => n.map((x) => x.textContent));
    out.conversion_note = await page.$$eval('[data-conversion-note]', (n) => n.map((x) => x.textContent));
    out.subtitle = await page.textContent('#conversation .panel p');
    out.exchange = await page.$$eval('.exchange .message', (n) => n.map((m) => ({
      role: m.querySelector('header strong').textContent, text: m.querySelector('p').textContent,
      pills: [...m.querySelectorAll('.pill')].map((p) => p.textContent),
      shown: [...m.querySelectorAll('[data-shown] a, [data-shown] span')].map((p) => p.textContent) })));
    out.exchange_when = await page.$$eval('.exchange .message [data-when]', (n) => n.map((x) => x.textContent));
    await page.click('.event:last-child button.link');
    await page.waitForSelector('.event:last-child .receipt table');
    out.receipt = await page.textContent('.event:last-child .receipt p');
    out.receipt_headers = await page.$$eval('.event:last-child .receipt th', (n) => n.map((x) => x.textContent));
    out.receipt_rows = await page.$$eval('.event:last-child .receipt tbody tr', (rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent)));
  } else {
    throw new Error('unknown scenario ' + scenario);
  }
} finally {
  out.errors = errors;
  out.missing_assets = missing;
  console.log(JSON.stringify(out));
  await browser.close();
}
