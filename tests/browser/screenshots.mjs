// The screenshot set of docs/img: every dashboard page at a desktop's width
// and a phone's, on a running demo. tests/browser/screenshots.sh starts the
// demo and runs this; by hand:
//   node tests/browser/screenshots.mjs URL SECRET_KEY NEW_COMPANY_SECRET_KEY OUT_DIR
import { chromium } from 'playwright-core';

const [url, key, newKey, out] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
const WIDTHS = [[1280, 900, 'desktop'], [390, 844, 'phone']];
const quiet = () => new Promise((r) => setTimeout(r, 400));

async function session(secret, width, height) {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => { throw e; });
  await page.goto(url);
  if (secret) {
    await page.fill('#key', secret);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
  }
  return page;
}

const settled = (page) => page.waitForFunction(() => !document.getElementById('overview').hasAttribute('aria-busy')
  && !document.querySelector('#conversation .loading, #experiments .loading'));

const shots = [];
async function shot(page, name, suffix) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await quiet();
  const path = `${out}/${name}-${suffix}.png`;
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
}

for (const [width, height, suffix] of WIDTHS) {
  const signIn = await session(null, width, height);
  await signIn.waitForSelector('#sign-in:not([hidden])');
  await shot(signIn, 'sign-in', suffix);
  await signIn.close();

  const page = await session(key, width, height);
  await page.goto(url + '#/?days=30');
  await page.waitForSelector('[data-metric="checkout_revenue_usd"]');
  await settled(page);
  await shot(page, 'overview', suffix);
  await page.goto(url + '#/?days=30&tab=cart');
  await page.waitForSelector('[data-metric="cart_gmv_usd"]');
  await settled(page);
  await shot(page, 'overview-cart', suffix);
  await page.goto(url + '#/?days=90&source=FAQ&compare=last_year');
  await page.waitForFunction(() => location.hash.includes('FAQ'));
  await settled(page);
  await shot(page, 'overview-filtered', suffix);

  await page.goto(url + '#/tickets/TK-2291');
  await page.waitForSelector('.event');
  await page.click('.event:last-child button.link');
  await page.waitForSelector('.event:last-child .receipt table');
  await shot(page, 'conversation', suffix);

  await page.goto(url + '#/experiments');
  await page.waitForSelector('#experiments [data-experiment]');
  await shot(page, 'experiments', suffix);
  await page.click('#experiments tr[data-experiment] a');
  await page.waitForSelector('#experiments [data-arm]');
  await shot(page, 'experiment', suffix);
  await page.close();

  const fresh = await session(newKey, width, height);
  await fresh.waitForSelector('#onboarding [data-snippet]');
  await shot(fresh, 'onboarding', suffix);
  await fresh.close();
}
await browser.close();
console.log(shots.join('\n'));
