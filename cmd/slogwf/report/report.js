// The slogwf report: one workflow tree as rows with a time line, its
// details, filters, search and tables. Every string of the data is
// untrusted (LLM and tool output): it reaches the page only as text
// (textContent, option text, document.title), never as markup.
'use strict';
(function () {
  const ROW = 22; // px, the height of .row in the CSS
  const RECORDS_SHOWN = 500; // records drawn at once in the details pane
  const LEVELS = new Map([['TRACE', -8], ['DEBUG', -4], ['INFO', 0], ['NOTICE', 2], ['WARN', 4], ['ERROR', 8]]);
  const ICONS = new Map([['completed', '✔'], ['failed', '✗'], ['incomplete', '…'], ['running', '▶']]);
  // The members of a tree's loss as the header says them; a member not
  // here (a later version's) by its name.
  const LOSSES = new Map([
    ['dropped', ['line dropped', 'lines dropped']],
    ['truncated', ['value truncated', 'values truncated']],
    ['redacted', ['secret redacted', 'secrets redacted']],
    ['clamped', ['number clamped', 'numbers clamped']],
    ['unwritten', ['line unwritten', 'lines unwritten']],
  ]);
  const KINDS = new Set(['workflow', 'iteration', 'interaction', 'action']);
  // A status and a kind of the data as classes name them: the known ones
  // by name, any other "other", so that no text of the data becomes a
  // class.
  const statusName = (s) => (ICONS.has(s) ? s : 'other');
  const kindName = (k) => (KINDS.has(k) ? k : 'other');
  // showStatus shows status in the element st: its icon, class and name.
  function showStatus(st, status) {
    st.textContent = ICONS.get(status) || '?';
    st.className = 'status st-' + statusName(status);
    st.title = status;
  }

  const $ = (id) => document.getElementById(id);
  const box = $('rows');
  const spacer = $('spacer');
  const details = $('details');
  const search = $('search');

  // el returns a new element with a class and a text.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // vis returns s with the characters that would act instead of showing
  // (controls, bidi overrides, invisible format characters) escaped as
  // \uXXXX; oneLine escapes line breaks and tabs too.
  const hidden = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
  const hiddenLine = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
  const esc = (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
  function vis(s, oneLine) {
    return String(s).replace(oneLine ? hiddenLine : hidden, esc);
  }

  // text returns a value of the data as text: a string as it is, other
  // values as JSON.
  function text(v, indent) {
    return typeof v === 'string' ? v : JSON.stringify(v, null, indent);
  }

  // highlight puts s, shown, into parent, with the matches of the search
  // marked.
  let marked = null; // the search, and its RegExp
  function highlight(parent, s, oneLine) {
    const shown = vis(s, oneLine);
    const q = state.query;
    parent.textContent = '';
    if (!q) {
      parent.textContent = shown;
      return;
    }
    // Matched on the text shown itself: its lower case may be longer
    // ("İ" is two characters lower-cased), and would put the marks off.
    if (!marked || marked.q !== q) marked = { q, re: new RegExp(q.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'giu') };
    let at = 0;
    for (const m of shown.matchAll(marked.re)) {
      if (m.index > at) parent.appendChild(document.createTextNode(shown.slice(at, m.index)));
      parent.appendChild(el('mark', '', m[0]));
      at = m.index + m[0].length;
    }
    if (at < shown.length) parent.appendChild(document.createTextNode(shown.slice(at)));
  }

  // Numbers as slogwf stats and tree print them.
  function fmtInt(n) {
    const s = String(Math.trunc(n));
    const neg = s.startsWith('-');
    const d = neg ? s.slice(1) : s;
    let out = '';
    for (let i = 0; i < d.length; i++) {
      if (i > 0 && (d.length - i) % 3 === 0) out += ',';
      out += d[i];
    }
    return (neg ? '-' : '') + out;
  }
  function fmtDur(ms) {
    if (!(ms > 0)) return '0s';
    let ns = ms * 1e6;
    if (ns >= 60e9) {
      if (ns >= 9223372036854775807) return 'long';
      let s = Math.trunc(ns) / 1e9;
      s = Math.floor(s + 0.5);
      const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
      return (h > 0 ? h + 'h' : '') + m + 'm' + sec + 's';
    }
    ns = Number(ns.toPrecision(3));
    if (ns >= 1e9) return String(ns / 1e9) + 's';
    if (ns >= 1e6) return String(ns / 1e6) + 'ms';
    if (ns >= 1e3) return String(ns / 1e3) + 'µs';
    return String(ns) + 'ns';
  }
  function fmtCost(usd) {
    if (usd < 0) return '-' + fmtCost(-usd);
    if (usd === 0) return '$0';
    if (usd >= 1 || !isFinite(usd)) return '$' + usd.toFixed(2);
    if (usd < 1e-9) return '$' + String(Number(usd.toPrecision(3)));
    return '$' + usd.toFixed(2 - Math.floor(Math.log10(usd)));
  }
  function plural(n, one, many) {
    return n === 1 ? '1 ' + one : fmtInt(n) + ' ' + many;
  }

  // ms returns the time t (RFC 3339 with nanoseconds) in milliseconds
  // since 1970, with the digits below the millisecond kept.
  function ms(t) {
    if (typeof t !== 'string' || t.length < 20) return NaN;
    const dot = t.indexOf('.', 19);
    const base = Date.parse(t.slice(0, 19) + 'Z');
    if (dot < 0) return base;
    const frac = t.slice(dot + 1).replace(/\D.*$/, '');
    return base + Number('0.' + frac) * 1000;
  }
  // clock returns the time of day of t, to the millisecond, in UTC.
  const clock = (t) => (typeof t === 'string' ? t.slice(11, 23) : '');
  const when = (t) => (typeof t === 'string' ? t.slice(0, 10) + ' ' + t.slice(11, 23) + ' UTC' : '');

  function levelOf(s) {
    const m = /^([A-Za-z]+)([+-]\d+)?$/.exec(String(s));
    if (m && LEVELS.has(m[1].toUpperCase())) return LEVELS.get(m[1].toUpperCase()) + (m[2] ? parseInt(m[2], 10) : 0);
    const n = parseInt(s, 10);
    return isNaN(n) ? 0 : n;
  }
  // levelName returns the badge class of level name s: its base name.
  function levelBase(s) {
    const m = /^[A-Za-z]+/.exec(String(s));
    return m && LEVELS.has(m[0].toUpperCase()) ? m[0].toUpperCase() : 'INFO';
  }

  function label(n) {
    switch (n.kind) {
      case 'iteration': return '#' + n.number;
      case 'interaction': return n.agent || '""';
      default: return n.name || '""';
    }
  }

  // The state of the page.
  const state = {
    docs: [], // the workflows of a file: {tree, stats}
    list: [], // the workflows to pick from: {id, name, status, start}
    doc: null, // the workflow shown
    nodes: [], // its scopes in tree order: see flatten
    expanded: null, // Uint8Array, by node
    pass: null, // Uint8Array: the node or one below it passes the filters
    self: null, // Uint8Array: the node itself passes the filters
    rows: [], // the nodes drawn, in order
    sel: -1, // the node selected
    filter: { level: null, agent: '', semantic: false, errors: false },
    query: '', // lower case
    hits: null, // Uint8Array: the node matches the search
    hitList: [],
    haystack: null, // the lower-case text of each node, made at the first search
    hot: '',
    shownRecords: RECORDS_SHOWN,
    focusRecord: -1,
  };
  const pool = [];

  // flatten lists the scopes of tree in tree order, children by start
  // time; each node knows its parent, depth, agent and the index after its
  // last descendant (end), so that a subtree is a range.
  function flatten(tree) {
    const nodes = [];
    const t0 = ms(tree.start);
    const visit = (n, parent, depth, agent) => {
      if (n.kind === 'interaction') agent = n.agent;
      const records = Array.isArray(n.records) ? n.records : [];
      let level = -Infinity;
      let semantic = false;
      for (const r of records) {
        level = Math.max(level, levelOf(r.level));
        semantic = semantic || r.semantic === true;
      }
      const failed = n.status === 'failed';
      if (failed) level = Math.max(level, 8);
      const start = ms(n.start) - t0;
      const dur = typeof n.duration_ms === 'number' ? n.duration_ms : 0;
      const cost = (n.usage && n.usage.cost_usd) || 0;
      const tokens = (n.usage && n.usage.total_tokens) || 0;
      const d = {
        n, i: nodes.length, parent, depth, agent: agent || '', end: 0,
        label: label(n), start, dur, level, semantic, error: failed || level >= 8, records, cost, tokens,
        // The texts of its time, tokens and cost, for draw and columns.
        nums: [n.duration_ms == null ? '' : fmtDur(dur), tokens ? fmtInt(tokens) : '', cost ? fmtCost(cost) : ''],
      };
      nodes.push(d);
      const kids = [].concat(n.iterations || [], n.interactions || [], n.actions || []);
      kids.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      for (const k of kids) visit(k, d.i, depth + 1, agent);
      d.end = nodes.length;
    };
    visit(tree, -1, 0, '');
    return nodes;
  }

  // load shows doc; keep carries the expanded rows and the selection over
  // when doc is a newer version of the workflow shown.
  function load(doc, keep) {
    const old = state.nodes;
    const wasOpen = new Set();
    const wasKnown = new Set();
    const selID = keep && state.sel >= 0 ? old[state.sel].n.id : null;
    if (keep) {
      for (const d of old) {
        wasKnown.add(d.n.id);
        if (state.expanded[d.i]) wasOpen.add(d.n.id);
      }
    }
    state.doc = doc;
    state.nodes = flatten(doc.tree);
    const n = state.nodes.length;
    state.expanded = new Uint8Array(n);
    state.sel = keep ? -1 : 0;
    for (const d of state.nodes) {
      state.expanded[d.i] = keep && wasKnown.has(d.n.id) ? wasOpen.has(d.n.id) : d.depth < 3;
      if (d.n.id === selID) state.sel = d.i;
    }
    state.haystack = null;
    if (!keep) {
      state.shownRecords = RECORDS_SHOWN;
      state.focusRecord = -1;
    }
    header();
    columns();
    agents();
    tables();
    filter(false);
    find(false);
    layout();
    showDetails();
  }

  // header fills the workflow's name and facts.
  function header() {
    const t = state.doc.tree;
    const u = t.usage || {};
    const c = t.counts || {};
    document.title = 'slogwf · ' + vis(t.name, true);
    showStatus($('wf-status'), t.status);
    $('wf-name').textContent = vis(t.name, true);
    const facts = $('wf-facts');
    facts.textContent = '';
    const fact = (name, value, cls) => {
      const div = el('div', cls);
      div.append(el('dt', '', name), el('dd', '', value));
      facts.appendChild(div);
    };
    fact('status', t.status);
    fact('start', when(t.start));
    fact('duration', fmtDur(t.duration_ms));
    fact('tokens in', fmtInt(u.input_tokens || 0));
    fact('cached', fmtInt(u.cached_input_tokens || 0));
    if (u.cache_write_input_tokens) fact('cache writes', fmtInt(u.cache_write_input_tokens));
    fact('out', fmtInt(u.output_tokens || 0));
    fact('cost', fmtCost(u.cost_usd || 0));
    fact('LLM calls', fmtInt(u.llm_calls || 0));
    fact('warnings', fmtInt(c.warnings || 0));
    fact('semantic', fmtInt(c.semantic || 0));
    fact('errors', fmtInt(c.errors || 0));
    const lost = [];
    for (const [k, n] of Object.entries(t.loss || {})) {
      if (typeof n !== 'number' || !(n > 0)) continue;
      const [one, many] = LOSSES.get(k) || [vis(k, true), vis(k, true)];
      lost.push(plural(n, one, many));
    }
    if (lost.length) fact('loss', lost.join(', '), 'loss');
    axis();
  }

  // steps yields the steps of the time axis, in ms, shortest first: 1, 2
  // and 5 times a power of ten up to 5 s, then steps that fall on round
  // seconds, minutes and hours, then 1, 2 and 5 times a power of ten of
  // days.
  function* steps() {
    for (let e = -6; e < 4; e++) for (const m of [1, 2, 5]) yield Number((m * 10 ** e).toPrecision(1));
    yield* [1e4, 15e3, 2e4, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5];
    for (let p = 864e5; ; p *= 10) for (const m of [1, 2, 5]) yield p * m;
  }

  // tickText returns the time ms as the axis says it: as fmtDur, but from
  // a minute on without the units that are 0 (1h, 1h30m).
  function tickText(ms) {
    if (ms < 60e3) return fmtDur(ms);
    const s = Math.round(ms / 1e3);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    return (h ? h + 'h' : '') + (m ? m + 'm' : '') + (sec ? sec + 's' : '');
  }

  // axis draws the time axis over the bars: labels at the multiples of
  // the shortest step whose labels, measured as drawn, leave a gap between
  // them, whatever the width of the axis and the duration of the
  // workflow. A label that would pass the end of the axis is left out.
  const GAP = 12; // px between two labels
  function axis() {
    const a = $('axis');
    a.textContent = '';
    const zero = a.appendChild(el('span', '', tickText(0)));
    zero.style.left = '0';
    const total = state.nodes.length ? state.nodes[0].dur : 0;
    const width = a.clientWidth;
    if (!(total > 0) || !width) return;
    const least = zero.getBoundingClientRect().width; // about the narrowest label
    for (const step of steps()) {
      const n = Math.floor(total / step);
      if (n === 0) return; // no step within the workflow: 0 alone
      if (n * (least + GAP) > width) continue; // too many to fit, unmeasured
      const labels = [];
      for (let k = 1; k <= n; k++) labels.push(a.appendChild(el('span', '', tickText(k * step))));
      const widths = labels.map((l) => l.getBoundingClientRect().width); // one layout for all
      let free = least + GAP; // where the next label may start
      let k = 0;
      let fits = true;
      for (; k < n; k++) {
        const left = ((k + 1) * step / total) * width - widths[k] / 2;
        if (left + widths[k] > width) break; // it and those after it are left out
        if (left < free) {
          fits = false;
          break;
        }
        labels[k].style.left = left + 'px';
        free = left + widths[k] + GAP;
      }
      for (const l of fits ? labels.slice(k) : labels) l.remove();
      if (fits) return;
    }
  }

  // columns tells the CSS the length of the longest time, tokens and cost
  // of the workflow, in characters, that their columns fit.
  function columns() {
    const longest = [0, 0, 0];
    for (const d of state.nodes) {
      for (let k = 0; k < 3; k++) longest[k] = Math.max(longest[k], d.nums[k].length);
    }
    ['--time-ch', '--tokens-ch', '--cost-ch'].forEach((name, k) => $('list').style.setProperty(name, longest[k]));
  }

  // agents fills the agent filter with the agents of the workflow.
  function agents() {
    const sel = $('agent');
    const names = [...new Set(state.nodes.filter((d) => d.n.kind === 'interaction').map((d) => d.agent))].sort();
    if (!names.includes(state.filter.agent)) state.filter.agent = '';
    sel.textContent = '';
    sel.appendChild(el('option', '', 'all')).value = '';
    for (const a of names) sel.appendChild(el('option', '', vis(a, true))).value = a;
    sel.value = state.filter.agent;
  }

  // filter works out which nodes pass the filters: those that match, and
  // those above them; reveal opens the scopes above those that match.
  function filter(reveal) {
    const f = state.filter;
    const nodes = state.nodes;
    const on = f.level !== null || f.agent !== '' || f.semantic || f.errors;
    state.pass = new Uint8Array(nodes.length);
    state.self = new Uint8Array(nodes.length);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const d = nodes[i];
      const ok = !on || ((f.level === null || d.level >= f.level) && (f.agent === '' || d.agent === f.agent) &&
        (!f.semantic || d.semantic) && (!f.errors || d.error));
      if (ok) state.self[i] = 1;
      if (ok || state.pass[i]) {
        state.pass[i] = 1;
        if (d.parent >= 0) state.pass[d.parent] = 1;
      }
    }
    if (on && reveal) {
      for (let i = 0; i < nodes.length; i++) if (state.self[i]) open(i);
    }
  }

  // open expands the scopes above node i.
  function open(i) {
    for (let p = state.nodes[i].parent; p >= 0 && !state.expanded[p]; p = state.nodes[p].parent) state.expanded[p] = 1;
  }

  // layout lists the rows to draw and draws those in view.
  function layout() {
    const nodes = state.nodes;
    const rows = [];
    for (let i = 0; i < nodes.length;) {
      if (!state.pass[i]) {
        i = nodes[i].end;
        continue;
      }
      rows.push(i);
      i = state.expanded[i] ? i + 1 : nodes[i].end;
    }
    state.rows = rows;
    spacer.style.height = rows.length * ROW + 'px';
    draw();
  }

  function newRow() {
    const r = el('div', 'row');
    r.setAttribute('role', 'treeitem');
    const tree = el('span', 'tree');
    tree.append(el('span', 'tw'), el('span', 'status'), el('span', 'kind'), el('span', 'name text'), el('span', 'badges'));
    const bar = el('span', 'bar');
    const track = el('span', 'track');
    track.appendChild(bar);
    r.append(tree, el('span', 'num dur'), el('span', 'num tok'), el('span', 'num cost'), track);
    box.appendChild(r);
    return r;
  }

  function badge(parent, cls, text, title) {
    const b = parent.appendChild(el('span', 'badge ' + cls, text));
    if (title) b.title = title;
  }

  // draw fills the row elements for the rows in view.
  function draw() {
    const rows = state.rows;
    const top = box.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - 4);
    const last = Math.min(rows.length, Math.ceil((top + box.clientHeight) / ROW) + 4);
    while (pool.length < last - first) pool.push(newRow());
    const root = state.nodes[0];
    const total = root ? root.dur : 0;
    for (let k = 0; k < pool.length; k++) {
      const r = pool[k];
      const at = first + k;
      if (at >= last) {
        r.hidden = true;
        continue;
      }
      const d = state.nodes[rows[at]];
      const n = d.n;
      r.hidden = false;
      r.dataset.i = d.i;
      r.dataset.id = n.id;
      r.style.top = at * ROW + 'px';
      r.className = 'row k-' + kindName(n.kind) + ' s-' + statusName(n.status) + (d.i === state.sel ? ' sel' : '') + (state.hits && state.hits[d.i] ? ' match' : '');
      r.setAttribute('aria-level', d.depth + 1);
      r.setAttribute('aria-selected', d.i === state.sel);
      const [tree, dur, tok, cost, track] = r.children;
      const [tw, st, kind, name, badges] = tree.children;
      tree.style.paddingLeft = 6 + d.depth * 14 + 'px';
      const hasKids = d.end > d.i + 1;
      tw.textContent = hasKids ? (state.expanded[d.i] ? '▾' : '▸') : '';
      if (hasKids) r.setAttribute('aria-expanded', !!state.expanded[d.i]);
      else r.removeAttribute('aria-expanded');
      showStatus(st, n.status);
      kind.textContent = n.kind;
      highlight(name, d.label, true);
      badges.textContent = '';
      const c = n.counts || {};
      if (c.errors) badge(badges, 'b-error', fmtInt(c.errors), plural(c.errors, 'error', 'errors'));
      if (c.semantic) badge(badges, 'b-semantic', fmtInt(c.semantic), plural(c.semantic, 'semantic warning', 'semantic warnings'));
      if (c.warnings) badge(badges, 'b-warn', fmtInt(c.warnings), plural(c.warnings, 'warning', 'warnings'));
      const hot = hotness(d);
      if (hot) badge(badges, hot >= 0.75 ? 'b-hot2' : 'b-hot', '≥' + (hot >= 0.75 ? 75 : 50) + '%', 'takes ' + Math.round(hot * 100) + '% of the workflow\'s ' + state.hot);
      [dur.textContent, tok.textContent, cost.textContent] = d.nums;
      const bar = track.firstChild;
      if (total > 0 && isFinite(d.start)) {
        bar.hidden = false;
        bar.style.left = Math.max(0, Math.min(100, (d.start / total) * 100)) + '%';
        bar.style.width = Math.max(0, Math.min(100, (d.dur / total) * 100)) + '%';
      } else {
        bar.hidden = d.i !== 0;
        bar.style.left = '0';
        bar.style.width = '100%';
      }
    }
  }

  // hotness returns the share of the workflow's time or cost that node d
  // takes, when the hot-spot toggle is on and it is 50 % or more.
  function hotness(d) {
    if (!state.hot || d.i === 0) return 0;
    const root = state.nodes[0];
    const share = state.hot === 'time' ? (root.dur > 0 ? d.dur / root.dur : 0) : (root.cost > 0 ? d.cost / root.cost : 0);
    return share >= 0.5 ? share : 0;
  }

  // select selects node i, draws it and its details, and scrolls it into
  // view.
  function select(i, record) {
    if (i < 0 || i >= state.nodes.length) return;
    if (i !== state.sel) state.shownRecords = RECORDS_SHOWN;
    state.sel = i;
    state.focusRecord = record == null ? -1 : record;
    const at = state.rows.indexOf(i);
    if (at >= 0) {
      const y = at * ROW;
      if (y < box.scrollTop) box.scrollTop = y;
      else if (y + ROW > box.scrollTop + box.clientHeight) box.scrollTop = y + ROW - box.clientHeight;
    }
    draw();
    showDetails();
  }

  function toggle(i, to) {
    const d = state.nodes[i];
    if (!d || d.end <= i + 1) return;
    state.expanded[i] = to == null ? !state.expanded[i] : to;
    layout();
  }

  // reveal opens the scopes above node i, and selects it.
  function reveal(i, record) {
    open(i);
    if (!state.pass[i]) {
      // A filter hides it: it goes, so that what the user asked for shows.
      clearFilters();
    }
    layout();
    select(i, record);
  }

  function clearFilters() {
    state.filter = { level: null, agent: '', semantic: false, errors: false };
    $('level').value = '';
    $('agent').value = '';
    $('semantic-only').checked = false;
    $('errors-only').checked = false;
    filter(false);
  }

  // showDetails fills the details pane with the node selected.
  function showDetails() {
    details.textContent = '';
    const d = state.nodes[state.sel];
    if (!d) {
      details.appendChild(el('p', 'hint', 'Select a row: ↑ ↓ move, Enter → ← expand and collapse, / search.'));
      return;
    }
    const n = d.n;
    const h = details.appendChild(el('h2'));
    h.append(el('span', 'status st-' + statusName(n.status), ICONS.get(n.status) || '?'), el('span', 'kind', n.kind));
    highlight(h.appendChild(el('span', 'name text')), d.label, true);

    const facts = details.appendChild(el('dl'));
    const fact = (name, value, cls) => {
      if (value === undefined || value === null || value === '') return;
      facts.append(el('dt', '', name));
      const dd = facts.appendChild(el('dd', cls));
      highlight(dd, String(value), false);
    };
    fact('status', n.status);
    fact('id', n.id);
    if (n.kind === 'interaction' || d.agent) fact('agent', d.agent);
    fact('start', when(n.start));
    fact('end', when(n.end));
    if (n.duration_ms != null) fact('duration', fmtDur(n.duration_ms));
    if (n.error) fact('error', n.error, 'error');
    const u = n.usage || {};
    if (u.llm_calls || u.total_tokens || u.cost_usd) {
      fact('LLM calls', fmtInt(u.llm_calls || 0));
      const writes = u.cache_write_input_tokens ? ', ' + fmtInt(u.cache_write_input_tokens) + ' written to the cache' : '';
      fact('tokens', fmtInt(u.input_tokens || 0) + ' in (' + fmtInt(u.cached_input_tokens || 0) + ' cached' + writes + '), ' +
        fmtInt(u.output_tokens || 0) + ' out, ' + fmtInt(u.total_tokens || 0) + ' total');
      fact('cost', fmtCost(u.cost_usd || 0));
    }
    const c = n.counts || {};
    fact('in all', plural(c.records || 0, 'record', 'records') + ', ' + plural(c.warnings || 0, 'warning', 'warnings') + ', ' +
      fmtInt(c.semantic || 0) + ' semantic, ' + plural(c.errors || 0, 'error', 'errors'));

    if (n.attrs && Object.keys(n.attrs).length) block('attrs', text(n.attrs, 2));
    if (n.input !== undefined) block('input', text(n.input, 2));
    if (n.output !== undefined) block('output', text(n.output, 2));
    records(d);
  }

  // block adds a titled text block that can be copied whole.
  function block(title, value) {
    const h = details.appendChild(el('h3', '', title));
    const btn = h.appendChild(el('button', 'copy', 'copy'));
    btn.type = 'button';
    const pre = details.appendChild(el('pre'));
    highlight(pre, value, false);
    btn.addEventListener('click', () => copy(value, pre, btn));
  }

  function copy(value, pre, btn) {
    const done = () => { btn.textContent = 'copied'; setTimeout(() => { btn.textContent = 'copy'; }, 1200); };
    const fallback = () => {
      window.getSelection().selectAllChildren(pre);
      try {
        if (document.execCommand('copy')) done();
      } catch (e) { /* the text stays selected, for the user to copy */ }
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(value).then(done, fallback);
    else fallback();
  }

  // records lists the records of node d that pass the filters, in time
  // order.
  function records(d) {
    const f = state.filter;
    const list = d.records.map((r, k) => ({ r, k }))
      .filter(({ r }) => (f.level === null || levelOf(r.level) >= f.level) && (!f.semantic || r.semantic === true) &&
        (!f.errors || levelOf(r.level) >= 8));
    list.sort((a, b) => (a.r.time < b.r.time ? -1 : a.r.time > b.r.time ? 1 : a.k - b.k));
    const h = details.appendChild(el('h3', '', 'records'));
    h.appendChild(el('span', 'hint', list.length === d.records.length ? String(list.length) : list.length + ' of ' + d.records.length));
    if (!list.length) return;
    const ul = details.appendChild(el('ul', 'records'));
    let focus = null;
    const shown = Math.max(state.shownRecords, list.findIndex((x) => x.k === state.focusRecord) + 1);
    for (const { r, k } of list.slice(0, shown)) {
      const li = ul.appendChild(el('li', r.semantic === true ? 'semantic' : ''));
      li.dataset.k = k;
      li.appendChild(el('span', 'time', clock(r.time)));
      li.appendChild(el('span', 'badge b-level-' + levelBase(r.level), vis(r.level, true)));
      if (r.semantic === true) badge(li, 'b-semantic', 'semantic');
      const attrs = r.attrs && typeof r.attrs === 'object' ? r.attrs : {};
      if (typeof attrs.origin === 'string') badge(li, 'b-origin', vis(attrs.origin, true), 'origin: who wrote the text');
      if (r.late === true) badge(li, 'b-late', 'late', 'logged after its scope ended');
      highlight(li.appendChild(el('span', 'msg')), r.msg == null ? '' : String(r.msg), false);
      const keys = Object.keys(attrs);
      if (keys.length || r.usage) {
        const a = li.appendChild(el('span', 'attrs'));
        for (const key of keys) {
          a.appendChild(el('b', '', vis(key, true) + '='));
          const v = a.appendChild(el('span'));
          highlight(v, text(attrs[key]), false);
          a.appendChild(document.createTextNode(' '));
        }
        if (r.usage) {
          a.appendChild(el('b', '', 'usage='));
          a.appendChild(document.createTextNode(JSON.stringify(r.usage)));
        }
      }
      if (k === state.focusRecord) {
        li.classList.add('focus');
        focus = li;
      }
    }
    if (list.length > shown) {
      const more = details.appendChild(el('button', '', 'show ' + Math.min(RECORDS_SHOWN, list.length - shown) + ' more of ' + (list.length - shown)));
      more.type = 'button';
      more.addEventListener('click', () => {
        state.shownRecords = shown + RECORDS_SHOWN;
        const y = details.scrollTop;
        showDetails();
        details.scrollTop = y;
      });
    }
    if (focus) focus.scrollIntoView({ block: 'nearest' });
  }

  // haystack returns the lower-case text that the search looks in, for
  // each node: its names, error, attribute values, input and output, and
  // its records' messages and attribute values.
  function haystack() {
    if (state.haystack) return state.haystack;
    const values = (v, out) => {
      if (v === null || v === undefined) return;
      if (typeof v === 'object') {
        for (const k in v) values(v[k], out);
      } else out.push(String(v));
    };
    state.haystack = state.nodes.map((d) => {
      const n = d.n;
      const out = [d.label, n.name || '', n.agent || '', n.error || ''];
      values(n.attrs, out);
      values(n.input, out);
      values(n.output, out);
      for (const r of d.records) {
        out.push(r.msg == null ? '' : String(r.msg));
        values(r.attrs, out);
      }
      return vis(out.join('\n'), false).toLowerCase();
    });
    return state.haystack;
  }

  // find marks the nodes that match the search; go selects the first
  // match from the selection on.
  function find(go) {
    const q = state.query;
    state.hits = null;
    state.hitList = [];
    if (q) {
      const hay = haystack();
      state.hits = new Uint8Array(state.nodes.length);
      for (let i = 0; i < hay.length; i++) {
        if (hay[i].includes(q)) {
          state.hits[i] = 1;
          state.hitList.push(i);
        }
      }
    }
    $('search-count').textContent = q ? plural(state.hitList.length, 'match', 'matches') : '';
    if (go && state.hitList.length) {
      const next = state.hitList.find((i) => i >= state.sel) ?? state.hitList[0];
      reveal(next);
    } else {
      draw();
      showDetails();
    }
  }

  function nextMatch(step) {
    const hits = state.hitList;
    if (!hits.length) return;
    let k = hits.findIndex((i) => (step > 0 ? i > state.sel : i >= state.sel));
    if (step > 0) k = k < 0 ? 0 : k;
    else k = (k < 0 ? hits.length : k) - 1;
    if (k < 0) k = hits.length - 1;
    reveal(hits[k]);
  }

  // nextError selects the next failed scope or scope with an ERROR
  // record after the selection, and that record.
  function nextError() {
    const nodes = state.nodes;
    for (let step = 1; step <= nodes.length; step++) {
      const i = (Math.max(state.sel, -1) + step) % nodes.length;
      const d = nodes[i];
      if (!d.error) continue;
      let first = -1;
      let t = '';
      d.records.forEach((r, k) => {
        if (levelOf(r.level) >= 8 && (first < 0 || r.time < t)) {
          first = k;
          t = r.time;
        }
      });
      reveal(i, first < 0 ? null : first);
      return;
    }
  }

  // move moves the selection by step rows.
  function move(step) {
    const rows = state.rows;
    if (!rows.length) return;
    const at = rows.indexOf(state.sel);
    const to = at < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, at + step));
    select(rows[to]);
  }

  function right() {
    const d = state.nodes[state.sel];
    if (!d || d.end <= d.i + 1) return;
    if (!state.expanded[d.i]) toggle(d.i, 1);
    else move(1);
  }

  function left() {
    const d = state.nodes[state.sel];
    if (!d) return;
    if (d.end > d.i + 1 && state.expanded[d.i]) toggle(d.i, 0);
    else if (d.parent >= 0) select(d.parent);
  }

  // tables fills the tables per agent and per model.
  function tables() {
    const stats = state.doc.stats || {};
    table($('table-agent'), 'agent', stats.agent);
    table($('table-model'), 'model', stats.model);
  }

  function table(t, by, s) {
    t.textContent = '';
    if (!s) return;
    const head = t.appendChild(el('thead')).appendChild(el('tr'));
    for (const h of [by, 'calls', 'records', 'warnings', 'semantic', 'errors', 'in', 'out', 'cost', 'time', 'p50', 'p95']) {
      head.appendChild(el('th', '', h));
    }
    const body = t.appendChild(el('tbody'));
    for (const r of (s.rows || []).concat([s.total])) {
      const tr = body.appendChild(el('tr', r === s.total ? 'total' : ''));
      const time = r.time_ms !== 0 || r.p50_ms != null || r === s.total ? fmtDur(r.time_ms) : '-';
      const cells = [vis(r.group, true), fmtInt(r.calls), fmtInt(r.records), fmtInt(r.warnings), fmtInt(r.semantic), fmtInt(r.errors),
        fmtInt(r.input_tokens), fmtInt(r.output_tokens), fmtCost(r.cost_usd), time,
        r.p50_ms == null ? '-' : fmtDur(r.p50_ms), r.p95_ms == null ? '-' : fmtDur(r.p95_ms)];
      for (const c of cells) tr.appendChild(el('td', '', c));
    }
  }

  // picker fills the list of workflows to pick from.
  // A workflow shown whose files went (serve drops it from the list) stays
  // shown as it was last, marked removed.
  function picker() {
    const sel = $('wf-select');
    sel.textContent = '';
    const list = state.list.slice();
    if (state.doc && !list.some((w) => w.id === state.doc.tree.id)) {
      list.push({ ...summary(state.doc.tree), status: 'removed' });
    }
    for (const w of list) {
      const o = sel.appendChild(el('option', '', vis(w.name, true) + ' · ' + w.status + ' · ' + when(w.start)));
      o.value = w.id;
    }
    // Shown for one workflow too when it says that one was removed.
    $('picker').hidden = list.length < 2 && list.length === state.list.length;
    if (state.doc) sel.value = state.doc.tree.id;
  }

  // The controls.
  box.addEventListener('scroll', () => requestAnimationFrame(draw));
  window.addEventListener('resize', () => requestAnimationFrame(draw));
  // The axis's labels fit its width: drawn again when it changes.
  new ResizeObserver(() => axis()).observe($('axis'));
  box.addEventListener('click', (e) => {
    const row = e.target.closest('.row');
    if (!row) return;
    const i = Number(row.dataset.i);
    if (e.target.classList.contains('tw')) toggle(i);
    select(i);
    box.focus({ preventScroll: true });
  });
  box.addEventListener('dblclick', (e) => {
    const row = e.target.closest('.row');
    if (row && !e.target.classList.contains('tw')) toggle(Number(row.dataset.i));
  });
  $('expand-all').addEventListener('click', () => { state.expanded.fill(1); layout(); });
  $('collapse-all').addEventListener('click', () => { state.expanded.fill(0); layout(); select(0); });
  $('depth').addEventListener('change', (e) => {
    const depth = Number(e.target.value);
    if (!depth) return;
    for (const d of state.nodes) state.expanded[d.i] = d.depth < depth;
    layout();
    e.target.value = '';
  });
  $('hot').addEventListener('change', (e) => { state.hot = e.target.value; draw(); });
  const refilter = () => {
    filter(true);
    layout();
    showDetails();
  };
  $('level').addEventListener('change', (e) => { state.filter.level = e.target.value === '' ? null : Number(e.target.value); refilter(); });
  $('agent').addEventListener('change', (e) => { state.filter.agent = e.target.value; refilter(); });
  $('semantic-only').addEventListener('change', (e) => { state.filter.semantic = e.target.checked; refilter(); });
  $('errors-only').addEventListener('change', (e) => { state.filter.errors = e.target.checked; refilter(); });
  let typing = 0;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.query = vis(search.value.trim(), false).toLowerCase();
      find(true);
    }, 120);
  });
  $('next-error').addEventListener('click', nextError);
  const tab = (run) => {
    $('tab-run').setAttribute('aria-selected', run);
    $('tab-tables').setAttribute('aria-selected', !run);
    $('view-run').hidden = !run;
    $('view-tables').hidden = run;
    if (run) draw();
  };
  $('tab-run').addEventListener('click', () => tab(true));
  $('tab-tables').addEventListener('click', () => tab(false));

  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t === search) {
      if (e.key === 'Enter') {
        clearTimeout(typing);
        const q = vis(search.value.trim(), false).toLowerCase();
        if (q !== state.query) {
          state.query = q;
          find(true);
        } else nextMatch(e.shiftKey ? -1 : 1);
        e.preventDefault();
      } else if (e.key === 'Escape') {
        box.focus();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
    if (t.tagName === 'BUTTON' && (e.key === 'Enter' || e.key === ' ')) return;
    switch (e.key) {
      case '/': search.focus(); search.select(); break;
      case 'ArrowDown': move(1); break;
      case 'ArrowUp': move(-1); break;
      case 'PageDown': move(Math.max(1, Math.floor(box.clientHeight / ROW) - 1)); break;
      case 'PageUp': move(-Math.max(1, Math.floor(box.clientHeight / ROW) - 1)); break;
      case 'Home': move(-Infinity); break;
      case 'End': move(Infinity); break;
      case 'Enter': toggle(state.sel); break;
      case 'ArrowRight': right(); break;
      case 'ArrowLeft': left(); break;
      default: return;
    }
    e.preventDefault();
  });

  // summary returns what the list of workflows shows of tree.
  const summary = (t) => ({ id: t.id, name: t.name, status: t.status, start: t.start });

  const data = JSON.parse($('slogwf-data').textContent);
  if (data.live) {
    // Served live: the list and the workflow shown come as server-sent
    // events, whenever the journals grow.
    let source = null;
    const connect = (id) => {
      if (source) source.close();
      source = new EventSource('events' + (id ? '?wf=' + encodeURIComponent(id) : ''));
      source.addEventListener('open', () => { $('live').className = 'on'; $('live').textContent = 'live'; });
      source.addEventListener('error', () => { $('live').className = ''; $('live').textContent = 'reconnecting…'; });
      source.addEventListener('list', (e) => {
        state.list = JSON.parse(e.data);
        picker();
        if (!id && state.list.length) connect(state.list[0].id);
      });
      source.addEventListener('workflow', (e) => {
        const doc = JSON.parse(e.data);
        load(doc, !!state.doc && state.doc.tree.id === doc.tree.id);
        picker();
        document.documentElement.dataset.updates = Number(document.documentElement.dataset.updates || 0) + 1;
      });
    };
    $('wf-select').addEventListener('change', (e) => connect(e.target.value));
    connect('');
  } else {
    state.docs = data.workflows || [];
    state.list = state.docs.map((d) => summary(d.tree));
    $('wf-select').addEventListener('change', (e) => {
      const doc = state.docs.find((d) => d.tree.id === e.target.value);
      if (doc) load(doc, false);
    });
    if (state.docs.length) load(state.docs[0], false);
    picker();
  }
  // How long the page took to be drawn and take input, for the tests to
  // read: after the first frame.
  requestAnimationFrame(() => setTimeout(() => {
    document.documentElement.dataset.readyMs = performance.now().toFixed(0);
  }));
})();
