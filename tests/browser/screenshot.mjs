// Signs in to a running dashboard and saves a screenshot:
//   node tests/browser/screenshot.mjs URL SECRET_KEY OUT.png [WIDTH HEIGHT]
import { chromium } from 'playwright-core';

const [url, key, out, width = '1280', height = '1500'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
await page.goto(url);
await page.fill('#key', key);
await page.click('#sign-in-form button[type=submit]');
await page.waitForSelector('[data-metric="checkout_revenue_usd"]');
await page.click('button[data-days="30"]');
await page.waitForTimeout(500);
await page.screenshot({ path: out, fullPage: true });
await browser.close();
