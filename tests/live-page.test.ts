// The live page in a real browser (Debian's headless Chromium, driven by playwright-core): first fed
// by hand, event by event, to see each one drawn when it comes and not only at the end; then watching a
// real sweep of the namespace lab from its first step to its report, against the sweep's JSON.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { sweepResultSchema } from '@lab/results';
import { startLiveServer, type LiveServer } from '../lab/live/live-server.ts';
import { deliveredPercent, tcpOutcome, tcpOutcomeWords } from '../lab/sweep-outcome.ts';
import { launchBrowser, watchedPage } from './support/browser.ts';
import { repoRoot } from './support/lab-containers.ts';

const isRoot = process.getuid?.() === 0;

interface Snapshot {
  status: string | undefined;
  samples: number;
  received: number;
}

/** Step `row`'s status (1 is the first), the TCP samples drawn and the most datagrams any UDP panel shows received. */
function snapshot(page: import('playwright-core').Page, row: number): Promise<Snapshot> {
  return page.evaluate(`(() => ({
    status: document.querySelector('#steps tbody tr:nth-child(${row})')?.dataset.status,
    samples: Number(document.querySelector('#live .panel[data-samples]')?.dataset.samples ?? 0),
    received: Math.max(0, ...[...document.querySelectorAll('#live .panel[data-received]')].map((panel) => Number(panel.dataset.received))),
  }))()`);
}

/** GET with any Host header, as a web page that rebinds its name to 127.0.0.1 would send it. */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the live page, fed event by event', { timeout: 120_000 }, () => {
  let browser: Browser;
  let server: LiveServer;
  before(async () => {
    browser = await launchBrowser();
    server = await startLiveServer(0);
  });
  after(async () => {
    await server?.close();
    await browser?.close();
  });

  it('draws each event as it comes, shows the report at the end, and logs no error', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(server.url);
    await page.locator('#state[data-state="waiting"]').waitFor();

    server.publish({ kind: 'sweep', title: 'sweep of loss 0%,10%', lab: 'namespaces: a bridge', steps: ['loss 0%', 'loss 10%'] });
    await page.locator('#title', { hasText: 'sweep of loss 0%,10%' }).waitFor();
    assert.equal(await page.locator('#steps tbody tr').count(), 2);

    server.publish({ kind: 'step-start', index: 0, label: 'loss 0%', impairment: 'loss random 0% on packets into tcp-server', startedAt: Date.now() });
    await page.locator('#steps tbody tr[data-status="running"]').waitFor();
    assert.match(await page.locator('#now').innerText(), /In force: loss random 0% on packets into tcp-server/);
    // The step's clock runs while the step does.
    const first = await page.locator('#elapsed').innerText();
    for (let i = 0; i < 40 && (await page.locator('#elapsed').innerText()) === first; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.notEqual(await page.locator('#elapsed').innerText(), first);

    server.publish({ kind: 'sample', index: 0, sample: { kind: 'udp', mode: 'unicast', receiver: 1, of: 10, arrivals: [[0, 'received'], [2, 'received'], [1, 'reordered'], [1, 'duplicate']] } });
    await page.locator('#live .panel[data-received="3"]').waitFor();
    assert.match(await page.locator('#live .panel').first().innerText(), /received 3 of 10 · missing 0 · came twice 1 · out of order 1 · late 0/);
    server.publish({ kind: 'line', text: 'demo: step 1/2: done' });
    server.publish({
      kind: 'step-end',
      index: 0,
      durationMs: 4200,
      tcp: { outcome: 'identical', text: 'identical', uploadMbitPerS: 812.5, downloadMbitPerS: 97.25 },
      udp: [{ mode: 'unicast', deliveredPercent: 100 }, { mode: 'broadcast', deliveredPercent: 99.5 }],
      figures: [
        { mode: 'unicast', receiver: 1, name: 'lost', text: '0', band: '0', verdict: 'inside' },
        { mode: 'unicast', receiver: 1, name: 'jitter', text: '0.120 ms', band: '0.000-0.150 ms', verdict: 'lab' },
        { mode: 'broadcast', receiver: 1, name: 'lost', text: '5', band: '0-2', verdict: 'outside' },
      ],
      summary: 'TCP identical; UDP delivered unicast 100.0%',
    });
    const row = page.locator('#steps tbody tr').first();
    await page.locator('#steps tbody tr[data-status="done"]').waitFor();
    assert.deepEqual(await row.locator('td').allInnerTexts(), [
      'loss 0%',
      'done',
      'identical',
      '813',
      '97.3',
      'unicast 100.0%, broadcast 99.5%',
      "1 of 3 inside\noutside: broadcast 1 lost 5 (band 0-2)\nthe lab's own: jitter (unicast 1)",
      '4.2 s',
    ]);
    assert.match(await page.locator('#log').innerText(), /demo: step 1\/2: done/);

    // A page opened now sees the sweep so far, replayed.
    const late = await watchedPage(browser);
    await late.page.goto(server.url);
    await late.page.locator('#steps tbody tr[data-status="done"]').waitFor();
    assert.equal(await late.page.locator('#title').innerText(), 'sweep of loss 0%,10%');
    // An ended step's samples are not kept: its verdict stands for it.
    assert.equal(await late.page.locator('#live .panel').count(), 0);

    server.publish({ kind: 'step-start', index: 1, label: 'loss 10%', impairment: 'loss random 10%', startedAt: Date.now() });
    server.publish({
      kind: 'step-end',
      index: 1,
      durationMs: 9000,
      tcp: { outcome: 'cut', text: 'did not complete in time', uploadMbitPerS: null, downloadMbitPerS: null },
      udp: [{ mode: 'unicast', deliveredPercent: 90.1 }],
      figures: [],
      summary: 'TCP LAB_ERR_DEADLINE',
    });
    // Text from the lab is text: markup in it is shown, never run.
    server.publish({ kind: 'end', ok: false, reportHtml: '<!doctype html><title>r</title><h1>The report</h1><script>parent.document.title = "ran"</script>' });
    await page.locator('#state[data-state="failed"]').waitFor();
    await page.locator('#report.shown').waitFor();
    assert.equal(await page.frameLocator('#report').locator('h1').innerText(), 'The report');
    // No script of the report runs, nor could reach the page: the frame is sandboxed, without scripts or our origin.
    assert.notEqual(await page.title(), 'ran');
    assert.equal(await page.locator('#report').getAttribute('sandbox'), '');
    assert.equal(await page.locator('#steps tbody tr').nth(1).locator('td').nth(2).innerText(), 'did not complete in time');
    // The browser says it blocked the report's script (the frame is sandboxed): that and nothing else.
    const unexpected = (seen: string[]) => seen.filter((problem) => !/Blocked script execution in 'about:srcdoc'|Refused to execute inline script/.test(problem));
    assert.deepEqual(unexpected(problems), []);
    assert.deepEqual(unexpected(late.problems), []);
  });

  it('answers to 127.0.0.1 and localhost only (a rebound name is refused), and serves nothing else', async () => {
    const port = new URL(server.url).port;
    assert.equal(await getWithHost(server.url, `127.0.0.1:${port}`), 200);
    assert.equal(await getWithHost(server.url, `localhost:${port}`), 200);
    assert.equal(await getWithHost(server.url, `attacker.example:${port}`), 421);
    assert.equal(await getWithHost(`${server.url}../package.json`, `127.0.0.1:${port}`), 404);
    assert.equal(await getWithHost(`${server.url}live-events.ts`, `127.0.0.1:${port}`), 404);
  });
});

describe('the live page of a real sweep (namespaces, root)', { timeout: 300_000, skip: isRoot ? false : 'the namespace lab needs root' }, () => {
  let browser: Browser;
  let out: string;
  let demo: ChildProcess | undefined;
  before(async () => {
    // A fresh clone has no results folder yet.
    mkdirSync(join(repoRoot, 'results'), { recursive: true });
    out = mkdtempSync(join(repoRoot, 'results', 'test-live-'));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    // A failed assertion must not leave the demo (and its namespaces) running under the next test.
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      const gone = once(demo, 'exit');
      demo.kill('SIGTERM');
      await gone;
    }
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('prints the URL before the first step; the page fills in step by step while the demo runs, and ends agreeing with the JSON', async () => {
    const child = spawn(process.execPath, ['scripts/demo.ts', '--lab', 'namespaces', '--loss', '0,10', '--datagrams', '3000', '--out', out], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    demo = child;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stdout.resume();
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        const found = /^demo: live page: (http:\/\/127\.0\.0\.1:\d+\/) /m.exec(stderr);
        if (found) resolve(found[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it printed the page's URL: ${stderr}`)));
    });
    assert.doesNotMatch(stderr.slice(0, stderr.indexOf('live page:')), /step 1\//, 'the URL comes before the first step');
    const exited = once(child, 'exit');
    const { page, problems } = await watchedPage(browser);
    await page.goto(url);
    // Seen while the demo still runs: the first step done while the second runs, and the second's TCP
    // samples and UDP marks coming in while it runs (the page watches from before the first step, but
    // the client samples only while one does: the second step is sure to be watched).
    await page.locator('#steps tbody tr:nth-child(1)[data-status="done"]').waitFor({ timeout: 120_000 });
    assert.equal(child.exitCode, null, 'the page showed a finished step before the demo ended');
    await page.locator('#steps tbody tr:nth-child(2)[data-status="running"]').waitFor({ timeout: 120_000 });
    const seen: Snapshot[] = [];
    for (let i = 0; i < 3000; i++) {
      const now = await snapshot(page, 2);
      seen.push(now);
      if (now.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const whileRunning = seen.filter((now) => now.status === 'running');
    assert.ok(whileRunning.some((now) => now.samples > 0), `TCP samples drawn while the step ran: ${JSON.stringify(seen.slice(-3))}`);
    const marks = [...new Set(whileRunning.map((now) => now.received).filter((n) => n > 0))];
    assert.ok(marks.length >= 2, `UDP marks filled in, in several goes, while the step ran (received counts seen: ${marks.join(', ')})`);
    // The 10% step: the upload loses segments and TCP resends them, and the chart marks when.
    await page.locator('#steps tbody tr:nth-child(2)[data-status="done"]').waitFor({ timeout: 200_000 });
    assert.ok((await page.locator('#live svg line[stroke="#c62828"]').count()) > 0, 'resent segments marked on the 10% step\'s chart');
    assert.ok(Number(await page.locator('#live .panel[data-received]').first().getAttribute('data-received')) < 3000, 'the 10% step lost datagrams');
    await page.locator('#report.shown').waitFor({ timeout: 200_000 });
    const [code] = await exited;
    assert.equal(code, 0, stderr.slice(-3000));

    const json = readdirSync(out).find((name) => name.endsWith('.json'));
    assert.ok(json);
    const result = sweepResultSchema.parse(JSON.parse(readFileSync(join(out, json), 'utf8')));
    const rows = page.locator('#steps tbody tr');
    assert.equal(await rows.count(), result.steps.length);
    for (const [index, step] of result.steps.entries()) {
      const cells = await rows.nth(index).locator('td').allInnerTexts();
      assert.equal(cells[0], `loss ${step.label}`);
      assert.equal(cells[2], tcpOutcomeWords[tcpOutcome(step)].long);
      const udp = step.experiment.udp;
      assert.ok(!('error' in udp));
      assert.equal(cells[5], udp.modes.map((mode) => `${mode.mode} ${deliveredPercent(mode.receivers).toFixed(1)}%`).join(', '));
    }
    assert.match(await page.locator('#state').innerText(), /^done: every step as expected/);
    assert.match(await page.frameLocator('#report').locator('body').innerText(), /sweep of loss/);

    // The packets: every step left a capture that tshark reads, and the 10% step's ladder, on the page's
    // report, has the handshake from the client's real ephemeral port, a segment sent again, and the teardown.
    for (const step of result.steps) {
      assert.ok('file' in step.capture, `a capture of step ${step.label}: ${JSON.stringify(step.capture)}`);
      const read = spawnSync('tshark', ['-r', join(out, step.capture.file), '-n', '-q'], { encoding: 'utf8' });
      assert.equal(read.status, 0, read.stderr);
      assert.ok(step.capture.packets! > 1000 && step.capture.dropped === 0, JSON.stringify(step.capture.packets));
    }
    const lossy = result.steps[1]!;
    // The chat contrast of the 10% step, on the page as in the JSON: TCP's column every line once and in
    // order; UDP's what came (in the order it came) and then what never came.
    const { chat } = lossy.experiment;
    assert.ok(chat && !('error' in chat));
    const lines = Array.from({ length: chat.lines }, (_, i) => i + 1);
    assert.deepEqual(chat.tcp.arrivals.map((arrival) => `${arrival.line} ${arrival.kind}`), lines.map((line) => `${line} in-order`));
    assert.deepEqual(chat.tcp.missing, []);
    const column = (transport: string) => page.locator(`#live .chat-column[data-transport="${transport}"] li`);
    assert.deepEqual((await column('tcp').allInnerTexts()).map((text) => text.split(' · ')[0]), lines.map((line) => `line ${line}`));
    const udpShown = await column('udp').evaluateAll((items) => items.map((item) => `${item.textContent!.split(' · ')[0]} ${item.getAttribute('data-kind')}`));
    assert.deepEqual(udpShown, [...chat.udp.arrivals.map((arrival) => `line ${arrival.line} ${arrival.kind}`), ...chat.udp.missing.map((line) => `line ${line} missing`)]);
    assert.ok('file' in lossy.capture && lossy.capture.tcp && !('error' in lossy.experiment.tcp));
    const ladder = lossy.capture.tcp;
    assert.equal(ladder.client.port, lossy.experiment.tcp.localPort, 'the ladder is the connection the client made, from the port its kernel chose');
    assert.equal(ladder.server.port, 9000);
    // At 10% loss into the server a SYN can be lost and sent again (seen: three client SYNs), or a SYN ACK
    // resent: the ladder shows every copy, so repeats are folded before the order is checked.
    const handshake = ladder.handshake.map((segment) => `${segment.from} ${segment.flags.join(' ')}`).filter((words, i, all) => words !== all[i - 1]);
    assert.deepEqual(handshake, ['client SYN', 'server SYN ACK', 'client ACK']);
    assert.ok(ladder.retransmissions.total > 0 && ladder.retransmissions.shown.length > 0);
    assert.ok(ladder.teardown.some((segment) => segment.flags.includes('FIN')) && ladder.closedFirstBy !== null);
    const drawn = page.frameLocator('#report').locator('details.capture[data-step="2"][open] svg.tcp-ladder');
    const words = (await drawn.textContent()) ?? '';
    assert.ok(words.includes(`${ladder.client.address}:${ladder.client.port} (ephemeral)`), words.slice(0, 300));
    assert.match(words, /SYN seq 0/);
    assert.match(words, /sent again: seq/);
    assert.match(words, /FIN, ACK seq/);
    assert.deepEqual(problems, []);
  });
});
