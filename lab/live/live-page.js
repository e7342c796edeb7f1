// The live page: it listens to the sweep's server-sent events (/events) and draws each one as it comes.
// Plain JavaScript on purpose: no build step, nothing fetched from elsewhere. Text from the lab goes in
// with textContent, never as HTML; the final report is shown in a sandboxed frame (no script runs there).
'use strict';

const $ = (id) => document.getElementById(id);
const rows = [];
let running = null; // { index, started, timer }

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

// Each UDP receiver's figures against their 99% bands: how many lie inside, and each one that lies
// outside or is the lab's own (its calibration shows more of it than the network adds), by name.
function showVerdicts(td, figures) {
  td.replaceChildren();
  if (figures.length === 0) {
    td.textContent = '-';
    return;
  }
  const inside = figures.filter((f) => f.verdict === 'inside').length;
  const part = (text, className) => {
    const span = document.createElement('span');
    span.textContent = text;
    span.className = className;
    return span;
  };
  const parts = [part(`${inside} of ${figures.length} inside`, 'inside')];
  for (const f of figures.filter((f) => f.verdict === 'outside')) parts.push(part(`outside: ${f.mode} ${f.receiver} ${f.name} ${f.text} (band ${f.band})`, 'outside'));
  const labs = new Map();
  for (const f of figures.filter((f) => f.verdict === 'lab')) labs.set(f.name, [...(labs.get(f.name) ?? []), `${f.mode} ${f.receiver}`]);
  for (const [name, where] of labs) parts.push(part(`the lab's own: ${name} (${where.join(', ')})`, 'lab'));
  parts.forEach((span, i) => {
    if (i > 0) td.append(document.createElement('br'));
    td.append(span);
  });
}

function setState(state, text) {
  $('state').dataset.state = state;
  $('state').textContent = text;
}

// --- The step's packets as they go: TCP's transfers and each UDP receiver's stream ------------------

const SVG = 'http://www.w3.org/2000/svg';
const svgNode = (name, attributes) => {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
};

// One colour per fate of a datagram; a lost one is a gap below the highest number heard so far.
const FATES = {
  received: { colour: '#2a9d3a', words: 'received' },
  lost: { colour: '#c62828', words: 'missing (lost, or not yet come)' },
  duplicate: { colour: '#1565c0', words: 'came twice' },
  reordered: { colour: '#e08a00', words: 'out of order' },
  late: { colour: '#7b1fa2', words: 'late' },
};
const FATE_CODES = ['unseen', 'received', 'lost', 'duplicate', 'reordered', 'late'];

let live = null; // the current step's panels: { tcp, udp: Map }

/** A key to a panel's colours: [words, colour] pairs. */
function legend(entries) {
  const key = document.createElement('div');
  key.className = 'key';
  for (const [words, colour] of entries) {
    const span = document.createElement('span');
    const dot = document.createElement('i');
    dot.style.background = colour;
    span.append(dot, words);
    key.append(span);
  }
  return key;
}

/** A panel in #live, kept in `order`: TCP first, then each mode's receivers in turn. */
function panel(title, note, order) {
  const box = document.createElement('div');
  box.className = 'panel';
  box.dataset.order = String(order);
  const h = document.createElement('h3');
  h.textContent = title;
  box.append(h);
  if (note) {
    const p = document.createElement('div');
    p.className = 'note';
    p.textContent = note;
    box.append(p);
  }
  const after = [...$('live').children].find((other) => Number(other.dataset.order) > order);
  $('live').insertBefore(box, after ?? null);
  return box;
}

/** TCP: how much of the file has got through, over time, per phase; the window; and when it resent. */
function tcpPanel() {
  const box = panel('TCP: the file, byte stream', 'Share of the file through (upload: acknowledged by the server; download: received here), as the kernel tells it (TCP_INFO) about ten times a second. Red ticks: segments this end sent again, i.e. a loss it repaired. The download\'s sender is the server: its window and resends are not sampled here.', 0);
  const width = 460;
  const height = 170;
  const svg = svgNode('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'TCP transfer progress' });
  svg.append(svgNode('line', { x1: 30, y1: 150, x2: width - 5, y2: 150, stroke: '#999' }), svgNode('line', { x1: 30, y1: 10, x2: 30, y2: 150, stroke: '#999' }));
  const label = (x, y, text, anchor = 'start') => {
    const t = svgNode('text', { x, y, 'font-size': 10, fill: '#555', 'text-anchor': anchor });
    t.textContent = text;
    svg.append(t);
    return t;
  };
  label(26, 14, '100%', 'end');
  label(26, 152, '0', 'end');
  const end = label(width - 5, 164, '', 'end');
  const lines = {
    upload: svgNode('polyline', { fill: 'none', stroke: '#0b57d0', 'stroke-width': 2, points: '' }),
    download: svgNode('polyline', { fill: 'none', stroke: '#2a9d3a', 'stroke-width': 2, points: '' }),
  };
  const ticks = svgNode('g', {});
  svg.append(lines.upload, lines.download, ticks);
  const figures = document.createElement('div');
  figures.className = 'figures';
  box.append(svg, figures);
  box.append(legend([['upload', '#0b57d0'], ['download', '#2a9d3a'], ['resent', '#c62828']]));
  const samples = { upload: [], download: [] };
  const state = { box, samples, count: 0 };
  state.add = (sample) => {
    // Both phases share one time axis: the download's clock starts where the upload's ended.
    const offset = sample.phase === 'download' ? (samples.upload.at(-1)?.tMs ?? 0) : 0;
    samples[sample.phase].push({ ...sample, at: offset + sample.tMs });
    state.count++;
    box.dataset.samples = String(state.count);
    const all = [...samples.upload, ...samples.download];
    const span = Math.max(1, ...all.map((s) => s.at));
    const x = (at) => 30 + ((width - 40) * at) / span;
    const y = (s) => 150 - (140 * s.done) / Math.max(1, s.bytes);
    for (const phase of ['upload', 'download']) lines[phase].setAttribute('points', samples[phase].map((s) => `${x(s.at).toFixed(1)},${y(s).toFixed(1)}`).join(' '));
    ticks.replaceChildren();
    for (const phase of ['upload', 'download']) {
      let before = 0;
      for (const s of samples[phase]) {
        if (s.retransmittedSegments > before) ticks.append(svgNode('line', { x1: x(s.at), x2: x(s.at), y1: 150, y2: 140, stroke: '#c62828', 'stroke-width': 2 }));
        before = s.retransmittedSegments;
      }
    }
    end.textContent = `${(span / 1000).toFixed(1)} s`;
    figures.textContent = `${sample.phase}: ${((100 * sample.done) / Math.max(1, sample.bytes)).toFixed(0)}% · window ${sample.cwnd ?? '-'} segments · RTT ${sample.rttMs === null ? '-' : `${sample.rttMs} ms`} · resent ${sample.retransmittedSegments} segments`;
  };
  return state;
}

/** UDP: one mark per datagram, in sequence order, filling in as the receiver hears them. */
function udpPanel(mode, receiver, of) {
  const box = panel(`UDP ${mode}, receiver ${receiver}: ${of} datagrams`, null, 1 + ['unicast', 'broadcast', 'multicast'].indexOf(mode) * 100 + receiver);
  const columns = Math.min(100, Math.max(20, Math.ceil(Math.sqrt(of * 3))));
  const rowsCount = Math.ceil(of / columns);
  const cell = Math.max(2, Math.min(8, Math.floor(300 / columns)));
  const canvas = document.createElement('canvas');
  canvas.className = 'marks';
  canvas.width = columns * cell;
  canvas.height = rowsCount * cell;
  const context = canvas.getContext('2d');
  context.fillStyle = '#eceff3';
  context.fillRect(0, 0, canvas.width, canvas.height);
  const figures = document.createElement('div');
  figures.className = 'figures';
  box.append(canvas, figures, legend(Object.values(FATES).map((fate) => [fate.words, fate.colour])));
  const fate = new Uint8Array(of); // index into FATE_CODES
  const counts = { received: 0, duplicate: 0, reordered: 0, late: 0 };
  let highest = -1;
  const paint = (seq) => {
    const code = FATE_CODES[fate[seq]];
    context.fillStyle = code === 'unseen' ? '#eceff3' : FATES[code].colour;
    context.fillRect((seq % columns) * cell, Math.floor(seq / columns) * cell, cell - 1, cell - 1);
  };
  const state = { box };
  state.add = (arrivals) => {
    for (const [seq, kind] of arrivals) {
      if (seq >= of) continue;
      if (kind === 'duplicate') counts.duplicate++;
      else {
        counts.received++;
        if (kind === 'reordered') counts.reordered++;
        if (kind === 'late') counts.late++;
      }
      // A duplicate keeps the first copy's colour unless the first was plain: then it shows it came twice.
      if (kind !== 'duplicate' || FATE_CODES[fate[seq]] === 'received') fate[seq] = FATE_CODES.indexOf(kind);
      paint(seq);
      if (seq > highest) {
        for (let gap = highest + 1; gap < seq; gap++) {
          if (FATE_CODES[fate[gap]] === 'unseen') {
            fate[gap] = FATE_CODES.indexOf('lost');
            paint(gap);
          }
        }
        highest = seq;
      }
    }
    const missing = fate.reduce((n, code) => n + (FATE_CODES[code] === 'lost' ? 1 : 0), 0);
    box.dataset.received = String(counts.received);
    figures.textContent = `received ${counts.received} of ${of} · missing ${missing} · came twice ${counts.duplicate} · out of order ${counts.reordered} · late ${counts.late}`;
  };
  return state;
}

/** What a chat line's arrival was, in words and colour (services/client/src/chat-arrivals.ts decides). */
const CHAT_KINDS = {
  'in-order': { words: 'in order', colour: '#2a9d3a' },
  reordered: { words: 'out of order', colour: '#7b1fa2' },
  duplicate: { words: 'came twice', colour: '#e08a00' },
};

/**
 * The chat contrast: the same numbered lines sent at the same moments through TCP chat and UDP chat, one
 * column each, filling in as the listeners get them. At the end, the lines that never came are added.
 */
function chatPanel(of) {
  const box = panel(`Chat: ${of} numbered lines, the same through TCP and UDP`, 'Sent one after another at the same moments; each column is what one listener got, in the order it came, with when (ms after the first line was sent). TCP gives every line, once, in order: later when it had to resend. UDP gives what the network let through.', 1000);
  const columns = document.createElement('div');
  columns.className = 'chat';
  const lists = {};
  for (const transport of ['tcp', 'udp']) {
    const column = document.createElement('div');
    column.className = 'chat-column';
    column.dataset.transport = transport;
    const h = document.createElement('h4');
    h.textContent = transport === 'tcp' ? 'TCP chat (the server\'s room)' : 'UDP chat (the relay\'s room)';
    const list = document.createElement('ol');
    const figures = document.createElement('div');
    figures.className = 'figures';
    column.append(h, list, figures);
    columns.append(column);
    lists[transport] = { list, figures, seen: new Set(), counts: { arrived: 0, reordered: 0, duplicate: 0 } };
  }
  box.append(columns, legend([...Object.values(CHAT_KINDS).map((kind) => [kind.words, kind.colour]), ['never came', '#c62828']]));
  const state = { box };
  state.add = (sample) => {
    const column = lists[sample.transport];
    const item = document.createElement('li');
    item.dataset.kind = sample.arrival;
    item.style.color = CHAT_KINDS[sample.arrival].colour;
    item.textContent = `line ${sample.line} · ${sample.ms.toFixed(0)} ms${sample.arrival === 'in-order' ? '' : ` · ${CHAT_KINDS[sample.arrival].words}`}`;
    column.list.append(item);
    column.seen.add(sample.line);
    column.counts.arrived++;
    if (sample.arrival !== 'in-order') column.counts[sample.arrival]++;
    column.figures.textContent = `${column.seen.size} of ${of} lines · ${column.counts.reordered} out of order · ${column.counts.duplicate} came twice`;
  };
  /** The step is over: what never came is shown as such. */
  state.end = () => {
    for (const column of Object.values(lists)) {
      for (let line = 1; line <= of; line++) {
        if (column.seen.has(line)) continue;
        const item = document.createElement('li');
        item.dataset.kind = 'missing';
        item.style.color = '#c62828';
        item.textContent = `line ${line} · never came`;
        column.list.append(item);
      }
      column.figures.textContent += ` · ${of - column.seen.size} never came`;
    }
  };
  return state;
}

function onSample(event) {
  if (!live || live.index !== event.index) {
    $('live').replaceChildren();
    live = { index: event.index, tcp: null, udp: new Map(), chat: null };
  }
  const { sample } = event;
  if (sample.kind === 'tcp') {
    live.tcp ??= tcpPanel();
    live.tcp.add(sample);
  } else if (sample.kind === 'chat') {
    live.chat ??= chatPanel(sample.of);
    live.chat.add(sample);
  } else {
    const key = `${sample.mode}/${sample.receiver}`;
    if (!live.udp.has(key)) live.udp.set(key, udpPanel(sample.mode, sample.receiver, sample.of));
    live.udp.get(key).add(sample.arrivals);
  }
}

const mbit = (value) => (value === null ? '-' : value >= 100 ? value.toFixed(0) : value.toPrecision(3));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const handlers = {
  sweep(event) {
    $('title').textContent = event.title;
    $('lab').textContent = event.lab;
    const body = $('steps').tBodies[0];
    body.replaceChildren();
    rows.length = 0;
    for (const label of event.steps) {
      const tr = document.createElement('tr');
      cell(tr, label);
      const status = cell(tr, 'waiting', 'waiting');
      const tcp = cell(tr, '');
      const up = cell(tr, '', 'num');
      const down = cell(tr, '', 'num');
      const udp = cell(tr, '');
      const figures = cell(tr, '', 'verdicts');
      const time = cell(tr, '', 'num');
      body.append(tr);
      rows.push({ tr, status, tcp, up, down, udp, figures, time });
    }
    setState('running', 'running');
  },

  'step-start'(event) {
    const row = rows[event.index];
    if (!row) return;
    row.status.textContent = 'running';
    row.status.className = 'running';
    row.tr.dataset.status = 'running';
    const now = $('now');
    now.replaceChildren();
    const head = document.createElement('div');
    head.textContent = `Step ${event.index + 1} of ${rows.length}: ${event.label}`;
    head.style.fontWeight = '600';
    const impairment = document.createElement('div');
    impairment.textContent = `In force: ${event.impairment}`;
    const elapsed = document.createElement('div');
    elapsed.id = 'elapsed';
    now.append(head, impairment, elapsed);
    if (running) clearInterval(running.timer);
    $('live').replaceChildren();
    live = { index: event.index, tcp: null, udp: new Map(), chat: null };
    // From when the step began, not from when this page heard of it (it may have been opened late); a
    // clock that disagrees by more than a minute is not trusted.
    const started = Math.abs(Date.now() - event.startedAt) < 60_000 ? Math.min(Date.now(), event.startedAt) : Date.now();
    const tick = () => {
      elapsed.textContent = `running for ${seconds(Date.now() - started)}`;
      row.time.textContent = seconds(Date.now() - started);
    };
    tick();
    running = { index: event.index, timer: setInterval(tick, 250) };
  },

  'step-end'(event) {
    const row = rows[event.index];
    if (!row) return;
    if (running && running.index === event.index) {
      clearInterval(running.timer);
      running = null;
      $('now').replaceChildren();
    }
    if (live && live.index === event.index) live.chat?.end();
    row.status.textContent = 'done';
    row.status.className = '';
    row.tr.dataset.status = 'done';
    row.tcp.textContent = event.tcp.text;
    row.tcp.className = event.tcp.outcome;
    row.up.textContent = mbit(event.tcp.uploadMbitPerS);
    row.down.textContent = mbit(event.tcp.downloadMbitPerS);
    row.udp.textContent = event.udp.map((mode) => `${mode.mode} ${mode.deliveredPercent === null ? '-' : `${mode.deliveredPercent.toFixed(1)}%`}`).join(', ');
    showVerdicts(row.figures, event.figures);
    row.time.textContent = seconds(event.durationMs);
    row.tr.title = event.summary;
  },

  sample: onSample,

  line(event) {
    const log = $('log');
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(`${event.text}\n`);
    if (atEnd) log.scrollTop = log.scrollHeight;
  },

  end(event) {
    finish();
    setState(event.ok ? 'ok' : 'failed', event.ok ? 'done: every step as expected' : 'done: a step failed (see the report)');
    const frame = $('report');
    frame.srcdoc = event.reportHtml;
    frame.className = 'shown';
  },

  stopped(event) {
    finish();
    setState('stopped', `stopped: ${event.reason}`);
  },
};

const source = new EventSource('/events');

function finish() {
  // The demo ends after its last event: without this the browser would keep trying to reconnect.
  source.close();
  if (running) clearInterval(running.timer);
  running = null;
  $('now').replaceChildren();
}

source.onmessage = (message) => {
  const event = JSON.parse(message.data);
  handlers[event.kind]?.(event);
};
source.onerror = () => {
  if (source.readyState === EventSource.CLOSED) setState('gone', 'the demo has ended');
  else setState('reconnecting', 'reconnecting…');
};
source.onopen = () => {
  if ($('state').dataset.state === 'reconnecting' || $('state').dataset.state === 'connecting') setState(rows.length ? 'running' : 'waiting', rows.length ? 'running' : 'waiting for the sweep to start');
};
