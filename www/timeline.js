// The demo's live timeline: an SVG of the last few minutes, redrawn every second. Rows: the
// faults and marks (a revoke, login required), the access token's validity, one lane per tab of
// this page with its refresh requests (coloured and shaped by outcome; a tab sends a refresh only
// while it holds the refresh lock, so the lane shows who held it) and its backoff windows, and
// the API calls with their results. Tabs of the page share their entries over a BroadcastChannel,
// so each draws a lane for every open tab. No chart library: rectangles, lines and text.
//
// Entries: { id, tab, kind, t0, t1, outcome, label }, kind one of 'refresh', 'signin', 'api',
// 'backoff', 'token', 'fault', 'mark'; t1 null while under way. `upsert` adds or updates one by
// id and tells the other tabs.

const NS = 'http://www.w3.org/2000/svg';
const WINDOW_MS = 3 * 60 * 1000;
const WIDTH = 1000;
const LEFT = 150;
const RIGHT = 12;
const ROW = 30;
const TOP = 8;
const AXIS = 26;
const KEEP_MS = 10 * 60 * 1000;

/** Outcome → colour (Okabe–Ito, distinguishable with the common colour-vision deficiencies) and
 * a shape, so no outcome is told by colour alone. */
export const OUTCOMES = {
  ok: { colour: '#009E73', shape: 'circle', text: 'ok' },
  throttled: { colour: '#E69F00', shape: 'triangle', text: 'throttled' },
  error: { colour: '#CC79A7', shape: 'square', text: '5xx, network or bad answer' },
  refused: { colour: '#D55E00', shape: 'cross', text: 'refused (revoked)' },
  pending: { colour: '#8c8c8c', shape: 'circle', text: 'under way' },
};

const short = (id) => id.slice(0, 4).toUpperCase();

export class Timeline {
  /** Draws into `svg` (an empty <svg>); this tab is `tab` (a short random id). */
  constructor(svg, tab) {
    this.svg = svg;
    this.tab = tab;
    this.entries = new Map();
    this.tabs = [tab];
    this.seq = 0;
    try {
      this.channel = new BroadcastChannel('cognito-session-demo-timeline');
      this.channel.onmessage = (e) => this.#receive(e.data);
      // A tab that opens asks the others for what they have.
      this.channel.postMessage({ hello: tab });
    } catch {
      this.channel = null;
    }
    this.svg.setAttribute('viewBox', `0 0 ${WIDTH} 100`);
    this.draw();
  }

  #receive(data) {
    // A tab that opens says hello; the others answer with themselves and their entries, so
    // every open tab has a lane even before it sends anything.
    const other = data?.hello ?? data?.present;
    if (typeof other === 'string') {
      if (!this.tabs.includes(other)) this.tabs.push(other);
      if (data.hello && this.channel) {
        this.channel.postMessage({ present: this.tab });
        for (const entry of this.entries.values()) if (entry.tab === this.tab) this.channel.postMessage({ entry });
      }
      this.draw();
      return;
    }
    const entry = data?.entry;
    if (!entry || typeof entry.id !== 'string') return;
    this.#keep(entry);
    this.draw();
  }

  #keep(entry) {
    if (!this.tabs.includes(entry.tab) && entry.kind !== 'token' && entry.kind !== 'fault' && entry.kind !== 'mark' && entry.kind !== 'api') this.tabs.push(entry.tab);
    this.entries.set(entry.id, { ...this.entries.get(entry.id), ...entry });
  }

  /** Adds an entry of this tab (or updates the one with `fields.id`); returns its id. */
  upsert(fields) {
    const id = fields.id ?? `${this.tab}-${(this.seq += 1)}`;
    const entry = { ...this.entries.get(id), tab: this.tab, ...fields, id };
    this.#keep(entry);
    this.channel?.postMessage({ entry });
    this.draw();
    return id;
  }

  /** The token valid until `expiresAt` (null: none) as this tab sees it now. */
  token(expiresAt, now = Date.now()) {
    const current = this.tokenId ? this.entries.get(this.tokenId) : null;
    if (current && current.t1 === expiresAt && current.cut == null) return;
    if (current && current.cut == null) this.upsert({ id: this.tokenId, cut: Math.min(now, current.t1) });
    this.tokenId = expiresAt == null ? null : this.upsert({ kind: 'token', t0: now, t1: expiresAt });
  }

  draw(now = Date.now()) {
    const from = now - WINDOW_MS;
    for (const [id, e] of this.entries) if ((e.t1 ?? now) < now - KEEP_MS) this.entries.delete(id);
    const rows = ['proxy faults', 'revoke, login', 'access token', ...this.tabs.map((t) => (t === this.tab ? `refresh · this tab ${short(t)}` : `refresh · tab ${short(t)}`)), 'API calls'];
    const height = TOP + rows.length * ROW + AXIS;
    const x = (t) => LEFT + ((Math.min(Math.max(t, from), now) - from) / WINDOW_MS) * (WIDTH - LEFT - RIGHT);
    const rowY = (i) => TOP + i * ROW;
    const svg = this.svg;
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
    const keep = [...svg.children].filter((c) => c.tagName === 'title' || c.tagName === 'desc' || c.tagName === 'defs');
    svg.replaceChildren(...keep);
    const add = (parent, tag, attrs, text) => {
      const el = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, String(v));
      if (text != null) el.textContent = text;
      parent.append(el);
      return el;
    };
    const tip = (el, text) => add(el, 'title', {}, text);
    const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });

    // Rows and their labels; a tab's lane carries data-tab.
    rows.forEach((label, i) => {
      const lane = i >= 3 && i < rows.length - 1;
      const g = add(svg, 'g', { class: lane ? 'lane' : 'row', 'data-tab': lane ? this.tabs[i - 3] : null });
      add(g, 'rect', { x: LEFT, y: rowY(i), width: WIDTH - LEFT - RIGHT, height: ROW, fill: i % 2 ? '#f6f8fa' : '#ffffff' });
      add(g, 'text', { x: LEFT - 8, y: rowY(i) + ROW / 2 + 4, 'text-anchor': 'end', 'font-size': 12 }, label);
    });
    // Time axis: a tick every 30 s, labelled with the clock.
    const axisY = rowY(rows.length);
    add(svg, 'line', { x1: LEFT, y1: axisY, x2: WIDTH - RIGHT, y2: axisY, stroke: '#57606a' });
    for (let t = Math.ceil(from / 30000) * 30000; t <= now; t += 30000) {
      add(svg, 'line', { x1: x(t), y1: TOP, x2: x(t), y2: axisY + 4, stroke: '#d0d7de', 'stroke-dasharray': '2 3' });
      add(svg, 'text', { x: x(t), y: axisY + 17, 'text-anchor': 'middle', 'font-size': 11, fill: '#57606a' }, clock(t));
    }
    add(svg, 'text', { x: LEFT - 8, y: axisY + 17, 'text-anchor': 'end', 'font-size': 11, fill: '#57606a' }, `last ${WINDOW_MS / 60000} min`);

    const visible = (e) => (e.t1 ?? now) >= from && e.t0 <= now;
    const laneOf = (tab) => 3 + Math.max(0, this.tabs.indexOf(tab));
    const entries = [...this.entries.values()].filter(visible).sort((a, b) => a.t0 - b.t0);
    let marks = 0;
    const drawn = [];
    for (const e of entries) {
      if (e.kind === 'fault') {
        const g = add(svg, 'g', { class: 'fault', 'data-mode': e.label });
        add(g, 'rect', { x: x(e.t0), y: rowY(0) + 3, width: Math.max(2, x(e.t1 ?? now) - x(e.t0)), height: ROW - 6, fill: '#fff1e5', stroke: '#E69F00' });
        const left = x(e.t0) > WIDTH - 160;
        add(g, 'text', { x: left ? x(e.t1 ?? now) - 4 : x(e.t0) + 4, y: rowY(0) + ROW / 2 + 4, 'text-anchor': left ? 'end' : 'start', 'font-size': 11 }, `proxy: ${e.label}`);
        tip(g, `proxy fault ${e.label} from ${clock(e.t0)}${e.t1 ? ` to ${clock(e.t1)}` : ''}`);
      } else if (e.kind === 'mark') {
        // Every tab marks its own login required: one mark for them all.
        if (drawn.some((d) => d.outcome === e.outcome && Math.abs(d.t0 - e.t0) < 5000)) continue;
        drawn.push(e);
        const g = add(svg, 'g', { class: 'mark', 'data-kind': e.outcome });
        add(g, 'line', { x1: x(e.t0), y1: rowY(1), x2: x(e.t0), y2: axisY, stroke: '#cf222e', 'stroke-width': 2 });
        // Labels alternate between two lines, and sit left of the line near the right edge.
        const left = x(e.t0) > WIDTH - 140;
        marks += 1;
        add(g, 'text', { x: x(e.t0) + (left ? -4 : 4), y: rowY(1) + 12 + (marks % 2 ? 0 : 12), 'text-anchor': left ? 'end' : 'start', 'font-size': 11, fill: '#cf222e', 'font-weight': 'bold' }, e.label);
        tip(g, `${e.label} at ${clock(e.t0)}`);
      } else if (e.kind === 'token') {
        const end = e.cut ?? e.t1;
        const g = add(svg, 'g', { class: 'token-bar' });
        // The last 30 s of a token are not handed out: drawn lighter.
        const handed = Math.min(end, e.t1 - 30000);
        add(g, 'rect', { x: x(e.t0), y: rowY(2) + 7, width: Math.max(1, x(handed) - x(e.t0)), height: ROW - 14, fill: '#56B4E9' });
        if (end > handed) add(g, 'rect', { x: x(Math.max(handed, e.t0)), y: rowY(2) + 7, width: Math.max(0, x(end) - x(Math.max(handed, e.t0))), height: ROW - 14, fill: '#cce8f7' });
        tip(g, `access token from ${clock(e.t0)}, valid until ${clock(e.t1)}${e.cut != null && e.cut < e.t1 ? `, replaced or cleared at ${clock(e.cut)}` : ''}`);
      } else if (e.kind === 'backoff') {
        const y = rowY(laneOf(e.tab));
        const g = add(svg, 'g', { class: 'backoff', 'data-tab': e.tab });
        add(g, 'rect', { x: x(e.t0), y: y + 4, width: Math.max(2, x(e.t1) - x(e.t0)), height: ROW - 8, fill: 'url(#backoff-hatch)', stroke: '#E69F00', 'stroke-dasharray': '3 2' });
        tip(g, `backoff (${e.label}): no refresh before ${clock(e.t1)}`);
      } else if (e.kind === 'refresh' || e.kind === 'signin') {
        const y = rowY(laneOf(e.tab)) + ROW / 2;
        const o = OUTCOMES[e.outcome] ?? OUTCOMES.pending;
        const g = add(svg, 'g', { class: 'attempt', 'data-outcome': e.outcome ?? 'pending', 'data-kind': e.kind, 'data-tab': e.tab, 'data-t0': e.t0, 'data-t1': e.t1 });
        // The request's span (the tab holds the refresh lock meanwhile), then its outcome.
        add(g, 'rect', { x: x(e.t0), y: y - 5, width: Math.max(3, x(e.t1 ?? now) - x(e.t0)), height: 10, fill: o.colour, opacity: 0.45 });
        shape(add, g, o, x(e.t1 ?? now), y);
        tip(g, `${e.kind === 'signin' ? 'sign-in' : 'refresh'} by tab ${short(e.tab)} at ${clock(e.t0)}: ${e.label ?? o.text}`);
      } else if (e.kind === 'api') {
        const y = rowY(rows.length - 1) + ROW / 2;
        const o = OUTCOMES[e.outcome] ?? OUTCOMES.pending;
        const g = add(svg, 'g', { class: 'api', 'data-outcome': e.outcome });
        add(g, 'line', { x1: x(e.t0), y1: y - 9, x2: x(e.t0), y2: y + 9, stroke: o.colour, 'stroke-width': 2 });
        tip(g, `API call at ${clock(e.t0)} from tab ${short(e.tab)}: ${e.label}`);
      }
    }
  }
}

/** The outcome's shape at (cx, cy). */
function shape(add, g, o, cx, cy) {
  const r = 5;
  const common = { fill: o.colour, stroke: '#1f2328', 'stroke-width': 0.8 };
  if (o.shape === 'circle') add(g, 'circle', { cx, cy, r, ...common });
  else if (o.shape === 'square') add(g, 'rect', { x: cx - r, y: cy - r, width: 2 * r, height: 2 * r, ...common });
  else if (o.shape === 'triangle') add(g, 'path', { d: `M${cx},${cy - r - 1}L${cx + r + 1},${cy + r}L${cx - r - 1},${cy + r}Z`, ...common });
  else add(g, 'path', { d: `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx + r},${cy - r}L${cx - r},${cy + r}`, stroke: o.colour, 'stroke-width': 3 });
}
