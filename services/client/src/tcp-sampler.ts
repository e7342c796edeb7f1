import { setTimeout as sleep } from 'node:timers/promises';
import { tcpSample, type TcpSample } from '@lab/host-counters';
import type { LiveReporter } from './live-reporter.ts';

/**
 * Samples the connection from `localPort` every `live.periodMs` while a transfer runs, and tells each
 * sample: how many of the file's `bytes` have got through (the upload: acknowledged by the server; the
 * download: received here), the window, the RTT, and the segments this end sent again, all counted from
 * the phase's start. `start` takes the baseline before the transfer begins (and before its clock
 * starts: a look costs a few ms that must not count as the transfer's). One sample at a time, so
 * samples never pile up.
 */
export class TransferSampler {
  readonly #live: LiveReporter | undefined;
  readonly #localPort: number;
  readonly #phase: 'upload' | 'download';
  readonly #bytes: number;
  readonly #base: TcpSample | null;
  #started = 0;
  #sampling: Promise<void> | null = null;

  private constructor(live: LiveReporter | undefined, localPort: number, phase: 'upload' | 'download', bytes: number, base: TcpSample | null) {
    this.#live = live;
    this.#localPort = localPort;
    this.#phase = phase;
    this.#bytes = bytes;
    this.#base = base;
  }

  /** Looks at the connection once, as the baseline; off (no live page): looks at nothing. */
  static async start(live: LiveReporter | undefined, localPort: number, phase: 'upload' | 'download', bytes: number): Promise<TransferSampler> {
    return new TransferSampler(live, localPort, phase, bytes, live?.on ? await tcpSample(localPort) : null);
  }

  /**
   * Samples while `transfer` runs; settles exactly when it does (the caller times the transfer by it:
   * no sample in flight may hold it up). `finish` then tells the last sample.
   */
  watch<T>(transfer: Promise<T>): Promise<T> {
    const live = this.#live;
    if (!live?.on || !this.#base) return transfer;
    this.#started = performance.now();
    this.#tell(this.#base);
    const stop = new AbortController();
    this.#sampling = (async () => {
      while (!stop.signal.aborted) {
        const waited = await sleep(live.periodMs, true, { signal: stop.signal }).catch(() => false);
        if (waited) this.#tell(await tcpSample(this.#localPort));
      }
    })();
    return transfer.finally(() => stop.abort());
  }

  /** After the transfer: the last sample, so that the chart ends where the transfer did. */
  async finish(): Promise<void> {
    if (!this.#sampling) return;
    await this.#sampling;
    this.#tell(await tcpSample(this.#localPort));
  }

  #tell(sample: TcpSample | null): void {
    const base = this.#base;
    if (!sample || !base) return;
    const through = this.#phase === 'upload' ? sample.bytesAcked - base.bytesAcked : sample.bytesReceived - base.bytesReceived;
    this.#live?.tell({
      kind: 'tcp',
      phase: this.#phase,
      tMs: performance.now() - this.#started,
      bytes: this.#bytes,
      done: Math.min(this.#bytes, Math.max(0, through)),
      cwnd: sample.cwnd,
      rttMs: sample.rttMs,
      retransmittedSegments: Math.max(0, sample.retransmittedSegments - base.retransmittedSegments),
    });
  }
}
