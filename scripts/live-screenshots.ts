// Makes the README's pictures of the live page and of a ladder: runs the demo (the namespace lab, a loss
// sweep), opens its live page in headless Chromium, and saves one screenshot while the 10% step runs and
// one at the end; then opens the HTML report it wrote and saves the 10% step's packets (the TCP ladder and
// the UDP datagrams). `node scripts/live-screenshots.ts [OUT_DIR]` (default docs/); needs root, Debian's
// chromium and tshark.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chatWords, sweepResultSchema } from '@lab/results';
import { captureSummary } from '../lab/capture/ladder-svg.ts';
import { launchBrowser } from '../tests/support/browser.ts';

const root = resolve(import.meta.dirname, '..');
const outDir = resolve(process.argv[2] ?? join(root, 'docs'));
mkdirSync(join(root, 'results'), { recursive: true });
const results = mkdtempSync(join(root, 'results', 'screenshots-'));
const demo = spawn(process.execPath, ['scripts/demo.ts', '--lab', 'namespaces', '--loss', '0,10', '--datagrams', '6000', '--out', results], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
demo.stderr.setEncoding('utf8');
const url = await new Promise<string>((done, fail) => {
  demo.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    const found = /^demo: live page: (\S+)/m.exec(stderr);
    if (found) done(found[1]!);
  });
  demo.once('exit', () => fail(new Error(stderr)));
});
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  await page.goto(url);
  await page.locator('#steps tbody tr:nth-child(2)[data-status="running"]').waitFor({ timeout: 300_000 });
  // Mid-step: the 10% step's transfers and streams done, its chat lines coming in.
  await page.locator('#live .chat-column li').first().waitFor({ timeout: 300_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(outDir, 'live-mid-step.png') });
  await page.locator('#report.shown').waitFor({ timeout: 300_000 });
  // Not fullPage: Chromium leaves a frame out of a full-page capture; a taller window takes it in.
  await page.setViewportSize({ width: 1280, height: 2900 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(outDir, 'live-final.png') });
  if (demo.exitCode === null) await once(demo, 'exit');
  // The report as a file, as a reader opens it: the step with the most resent segments is open.
  const report = readdirSync(results).find((name) => name.endsWith('.html'));
  await page.goto(`file://${join(results, report!)}`);
  await page.locator('details.capture[open]').screenshot({ path: join(outDir, 'packet-ladder.png') });
  process.stdout.write(`wrote ${['live-mid-step.png', 'live-final.png', 'packet-ladder.png'].map((name) => join(outDir, name)).join(', ')}\n`);
  // What the pictures show, in words, for the README beside them.
  const result = sweepResultSchema.parse(JSON.parse(readFileSync(join(results, report!.replace(/\.html$/, '.json')), 'utf8')));
  const lossy = result.steps[1]!;
  const { chat } = lossy.experiment;
  if (chat && !('error' in chat)) process.stdout.write(`10% step, chat: TCP ${chatWords(chat, 'tcp')}; UDP ${chatWords(chat, 'udp')}\n`);
  if ('file' in lossy.capture && lossy.capture.tcp) {
    const { retransmissions } = lossy.capture.tcp;
    const timers = retransmissions.shown.filter((resent) => resent.trigger === 'timeout').map((resent) => resent.silentMs.toFixed(0));
    process.stdout.write(`10% step, packets: ${captureSummary(lossy.capture)}; timeouts drawn after ${timers.join(', ')} ms of silence\n`);
  }
} finally {
  await browser.close();
  if (demo.exitCode === null) await once(demo, 'exit');
  rmSync(results, { recursive: true, force: true });
}
