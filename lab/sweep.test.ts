import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSweep, planSweep } from './sweep-plan.ts';
import { clientArgs, type SweepSettings } from './sweep.ts';

const settings = (liveMs?: () => number): SweepSettings => ({
  plan: planSweep(parseSweep('loss 0%,10%'), {}),
  direction: 'in',
  fileBytes: 1024,
  datagrams: 100,
  datagramBytes: 512,
  rate: 2000,
  receivers: 2,
  modes: ['unicast'],
  tcpDeadlineMs: 0,
  ...(liveMs && { liveMs }),
});

describe('the client\'s arguments at each step', () => {
  it('ask for live samples only while a page watches, asking again at each step', () => {
    assert.ok(!clientArgs(settings(), 0, 1000).some((arg) => arg.startsWith('--live-ms')), 'no live page');
    let watching = false;
    const live = settings(() => (watching ? 100 : 0));
    assert.ok(!clientArgs(live, 0, 1000).some((arg) => arg.startsWith('--live-ms')), 'nobody watching: measured as with --no-ui');
    watching = true;
    assert.ok(clientArgs(live, 1, 1000).includes('--live-ms=100'));
  });

  it('give each step rooms of its own: one per mode and one for the chat, never an earlier step\'s', () => {
    const three = { ...settings(), modes: ['unicast', 'broadcast', 'multicast'] as SweepSettings['modes'] };
    const rooms = [0, 1, 2].map((index) => Number(clientArgs(three, index, 1000).find((arg) => arg.startsWith('--room='))!.slice('--room='.length)));
    // The client takes --room … --room + 2 for the modes and --room + 3 for the chat.
    assert.deepEqual(rooms, [1, 5, 9]);
  });

  it('leave the chat to the client unless told, and pass on a number of lines when told', () => {
    assert.ok(!clientArgs(settings(), 0, 1000).some((arg) => arg.startsWith('--chat-lines')));
    assert.ok(clientArgs({ ...settings(), chatLines: 0 }, 0, 1000).includes('--chat-lines=0'));
  });
});
