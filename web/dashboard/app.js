// Easegress-C dashboard: polls the admin API and draws what it reads. Plain browser
// JavaScript, no library: the DOM is built with textContent only (object names and paths
// come from users), and charts are inline SVG drawn here.
(function () {
  'use strict';

  const API = '/apis/v2';
  const POLL_MS = 2000;
  const WINDOW_MS = 5 * 60 * 1000;     // what a chart shows
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const CHART_W = 600;
  const CHART_H = 170;
  const PAD = { left: 48, right: 8, top: 10, bottom: 22 };

  // Per object ("Kind/name"): its samples and the card showing them.
  const tracked = new Map();
  let objectKinds = new Map();          // name -> kind, from the last objects list
  let selectedSpec = null;              // { name, format }
  let downSince = null;

  // ---- small helpers ----

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) node.appendChild(c);
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function fmtNum(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
    return Number(v).toFixed(digits === undefined ? 1 : digits);
  }

  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    if (v >= 100) return v.toFixed(0);
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  function fmtDuration(ms) {
    let s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return d + 'd ' + h + 'h ' + m + 'm';
    if (h) return h + 'h ' + m + 'm ' + s + 's';
    if (m) return m + 'm ' + s + 's';
    return s + 's';
  }

  function codeClasses(codes) {
    const c = { c2: 0, c3: 0, c4: 0, c5: 0 };
    for (const [code, n] of Object.entries(codes || {})) {
      const k = 'c' + String(code).charAt(0);
      if (k in c) c[k] += n;
    }
    return c;
  }

  async function getJSON(path) {
    const resp = await fetch(API + path, { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!resp.ok) throw new Error(path + ': HTTP ' + resp.status);
    return resp.json();
  }

  // ---- API state ----

  function setApiState(ok, err) {
    const status = document.getElementById('api-status');
    if (ok) {
      downSince = null;
      status.dataset.state = 'ok';
      status.textContent = 'Admin API reachable';
      document.getElementById('updated').textContent = new Date().toLocaleTimeString('en-GB');
      return;
    }
    if (downSince === null) downSince = Date.now();
    status.dataset.state = 'down';
    status.textContent = 'Admin API unreachable for ' + fmtDuration(Date.now() - downSince) +
      ' (' + (err && err.message ? err.message : err) + '); retrying every ' + POLL_MS / 1000 + ' s';
  }

  // ---- node status ----

  function renderMembers(members) {
    const body = document.querySelector('#members tbody');
    body.replaceChildren();
    const now = Date.now();
    for (const m of members || []) {
      const opts = m.options || {};
      const start = Date.parse((m.etcd || {}).startTime);
      const beat = Date.parse(m.lastHeartbeatTime);
      const beatAge = Number.isNaN(beat) ? null : now - beat;
      const row = el('tr', { 'data-member': opts.Name || '' }, [
        el('th', { scope: 'row', text: opts.Name || '?' }),
        el('td', { 'data-field': 'role', text: opts.ClusterRole || '' }),
        el('td', { 'data-field': 'version', text: m.version || '' }),
        el('td', { 'data-field': 'health', 'data-health': m.health || '', text: m.health || '' }),
        el('td', { 'data-field': 'heartbeat',
          text: Number.isNaN(beat) ? '–' : (m.lastHeartbeatTime + ' (' + fmtDuration(beatAge) + ' ago)') }),
        el('td', { 'data-field': 'uptime', text: Number.isNaN(start) ? '–' : fmtDuration(now - start) }),
        el('td', { 'data-field': 'workers', text: opts.Workers === undefined ? '' : String(opts.Workers) }),
      ]);
      if (beatAge !== null && beatAge > 30000) row.classList.add('stale');
      body.appendChild(row);
    }
  }

  // ---- objects and specs ----

  // The table is rebuilt only when the list changed, so a focused or hovered name stays put.
  function renderObjects(objects) {
    const sorted = (objects || []).slice().sort((a, b) =>
      (a.kind + '/' + a.name).localeCompare(b.kind + '/' + b.name));
    objectKinds = new Map(sorted.map((o) => [o.name, o.kind]));
    if (selectedSpec && !objectKinds.has(selectedSpec.name))
      document.getElementById('object-spec').textContent = selectedSpec.name + ' has been deleted.';
    const signature = JSON.stringify(sorted.map((o) => [o.kind, o.name, o.createdAt]));
    const body = document.querySelector('#objects tbody');
    if (body.dataset.signature === signature) return;
    body.dataset.signature = signature;
    body.replaceChildren();
    for (const o of sorted) {
      const button = el('button', { type: 'button', class: 'link', text: o.name });
      button.addEventListener('click', () => showSpec(o.name, selectedSpec ? selectedSpec.format : 'yaml'));
      body.appendChild(el('tr', { 'data-object': o.name, 'data-kind': o.kind }, [
        el('td', { text: o.kind }),
        el('th', { scope: 'row' }, [button]),
        el('td', { text: o.createdAt || '' }),
      ]));
    }
    document.getElementById('objects-empty').hidden = sorted.length > 0;
  }

  async function showSpec(name, format) {
    selectedSpec = { name, format };
    const view = document.getElementById('spec-view');
    const pre = document.getElementById('object-spec');
    view.hidden = false;
    view.dataset.object = name;
    document.getElementById('spec-heading').textContent = 'Spec of ' + name;
    document.getElementById('spec-yaml').setAttribute('aria-pressed', String(format === 'yaml'));
    document.getElementById('spec-json').setAttribute('aria-pressed', String(format === 'json'));
    try {
      const resp = await fetch(API + '/objects/' + encodeURIComponent(name), {
        cache: 'no-store', headers: { Accept: format === 'yaml' ? 'text/x-yaml' : 'application/json' } });
      const text = await resp.text();
      if (!resp.ok) throw new Error('HTTP ' + resp.status + ': ' + text);
      if (selectedSpec.name !== name || selectedSpec.format !== format) return;   // a later click won
      pre.textContent = format === 'json' ? JSON.stringify(JSON.parse(text), null, 2) : text;
      view.dataset.format = format;
    } catch (err) {
      pre.textContent = 'Cannot read the spec of ' + name + ': ' + err.message;
    }
  }

  // ---- samples ----

  // Adds one reading of `stat` at time t to the object's samples. Rates are count deltas over
  // the time between two readings; a count that went down (the object was recreated or the
  // server restarted) starts over with a gap.
  function addSample(entry, stat, t) {
    const count = stat.count || 0;
    const classes = codeClasses(stat.codes);
    const prev = entry.last;
    const sample = { t, rps: null, m1: stat.m1 || 0, p50: null, p95: null, p99: null,
      c2: null, c3: null, c4: null, c5: null };
    if (count > 0) {
      sample.p50 = stat.p50; sample.p95 = stat.p95; sample.p99 = stat.p99;
    }
    if (prev && count >= prev.count && t > prev.t) {
      const secs = (t - prev.t) / 1000;
      sample.rps = (count - prev.count) / secs;
      for (const k of ['c2', 'c3', 'c4', 'c5'])
        sample[k] = Math.max(0, classes[k] - prev.classes[k]) / secs;
    }
    entry.last = { t, count, classes };
    entry.samples.push(sample);
    while (entry.samples.length && entry.samples[0].t < t - WINDOW_MS) entry.samples.shift();
    return sample;
  }

  // ---- charts ----

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function makeChart(key, title, unit, series) {
    const chart = svg('svg', { viewBox: '0 0 ' + CHART_W + ' ' + CHART_H, role: 'img',
      'data-chart': key, 'data-points': '0', 'aria-label': title });
    const legend = el('ul', { class: 'legend' }, series.map((s) =>
      el('li', { class: 'key-' + s.key }, [el('span', { class: 'swatch', 'aria-hidden': 'true' }),
        el('span', { text: s.label })])));
    const figure = el('figure', { class: 'chart' }, [
      el('figcaption', { text: title + (unit ? ' (' + unit + ')' : '') }), chart, legend]);
    return { figure, chart, title, unit, series };
  }

  function drawChart(c, samples, now) {
    const chart = c.chart;
    chart.replaceChildren();
    const x0 = PAD.left, x1 = CHART_W - PAD.right, y0 = CHART_H - PAD.bottom, y1 = PAD.top;
    let max = 0;
    for (const s of samples) for (const d of c.series) if (s[d.key] !== null) max = Math.max(max, s[d.key]);
    const top = niceMax(max);
    // The time axis grows with the history, from one minute up to the whole window, so a
    // fresh page does not squeeze its first points against the right edge.
    const span = Math.min(WINDOW_MS, Math.max(60000, samples.length ? now - samples[0].t : 0));
    const xOf = (t) => x0 + (x1 - x0) * (1 - (now - t) / span);
    const yOf = (v) => y0 - (y0 - y1) * (v / top);
    for (let i = 0; i <= 4; i++) {
      const v = top * i / 4, y = yOf(v);
      chart.appendChild(svg('line', { x1: x0, x2: x1, y1: y, y2: y, class: 'grid' }));
      const label = svg('text', { x: x0 - 4, y: y + 4, class: 'axis', 'text-anchor': 'end' });
      label.textContent = Number.isInteger(v) ? v.toLocaleString('en') : String(Number(v.toFixed(3)));
      chart.appendChild(label);
    }
    const step = [10000, 15000, 30000, 60000].find((ms) => span / ms <= 6) || 60000;
    for (let ago = 0; ago <= span; ago += step) {
      const label = svg('text', { x: xOf(now - ago), y: CHART_H - 6, class: 'axis',
        'text-anchor': ago === 0 ? 'end' : (ago + step > span ? 'start' : 'middle') });
      label.textContent = ago === 0 ? 'now' : (ago % 60000 === 0 ? '-' + ago / 60000 + 'm' : '-' + ago / 1000 + 's');
      chart.appendChild(label);
    }
    let points = 0;
    const last = {};
    for (const d of c.series) {
      let path = '', pen = false, n = 0;
      for (const s of samples) {
        const v = s[d.key];
        if (v === null || v === undefined) { pen = false; continue; }
        path += (pen ? 'L' : 'M') + xOf(s.t).toFixed(1) + ' ' + yOf(v).toFixed(1);
        pen = true;
        n++;
        last[d.key] = v;
      }
      if (path) chart.appendChild(svg('path', { d: path, class: 'line key-' + d.key, 'data-series': d.key }));
      if (d === c.series[0]) points = n;
    }
    chart.setAttribute('data-points', String(points));
    const first = c.series[0].key;
    chart.setAttribute('data-last', last[first] === undefined ? '' : String(last[first]));
    chart.setAttribute('aria-label', c.title + ': ' + c.series.map((d) =>
      d.label + ' ' + (last[d.key] === undefined ? 'no data' : fmtNum(last[d.key], 2) + (c.unit ? ' ' + c.unit : ''))).join(', '));
  }

  // ---- cards ----

  function figure(name, label) {
    const dd = el('dd', { 'data-field': name, text: '–' });
    return { node: el('div', {}, [el('dt', { text: label }), dd]), dd };
  }

  function makeCard(kind, name) {
    const fields = {};
    const list = el('dl', { class: 'figures' });
    for (const [k, label] of [['count', 'Requests'], ['rps', 'Requests/s'], ['m1', 'm1 rate'],
      ['errCount', 'Errors'], ['m1ErrPercent', 'm1 error %'], ['p50', 'p50 ms'], ['p99', 'p99 ms'],
      ['max', 'max ms']]) {
      const f = figure(k, label);
      fields[k] = f.dd;
      list.appendChild(f.node);
    }
    const charts = [
      makeChart('rps', 'Requests per second', 'req/s',
        [{ key: 'rps', label: 'measured' }, { key: 'm1', label: 'm1' }]),
      makeChart('latency', 'Latency', 'ms',
        [{ key: 'p50', label: 'p50' }, { key: 'p95', label: 'p95' }, { key: 'p99', label: 'p99' }]),
      makeChart('codes', 'Status codes per second', 'req/s',
        [{ key: 'c2', label: '2xx' }, { key: 'c3', label: '3xx' }, { key: 'c4', label: '4xx' }, { key: 'c5', label: '5xx' }]),
    ];
    const meta = el('span', { class: 'meta' });
    const idle = el('p', { class: 'idle', text: 'No requests yet.' });
    const card = el('article', { class: 'card', 'data-kind': kind, 'data-name': name }, [
      el('h3', {}, [el('span', { text: name }), meta]), list, idle,
      el('div', { class: 'charts' }, charts.map((c) => c.figure)),
    ]);
    // extra: the top-N table of a server, the backend tables of a pipeline
    const extra = el('div', { class: 'extra' });
    card.appendChild(extra);
    return { kind, name, card, fields, charts, meta, idle, extra, samples: [], last: null };
  }

  function fillFigures(entry, stat, sample) {
    const n = stat.count || 0;
    const show = (k, v, text) => {
      entry.fields[k].textContent = text;
      entry.fields[k].dataset.value = v === null || v === undefined ? '' : String(v);
    };
    show('count', n, String(n));
    show('rps', sample.rps, fmtNum(sample.rps, 1));
    show('m1', stat.m1 || 0, fmtNum(stat.m1 || 0, 2));
    show('errCount', stat.errCount || 0, String(stat.errCount || 0));
    show('m1ErrPercent', stat.m1ErrPercent || 0, fmtNum(stat.m1ErrPercent || 0, 1));
    for (const k of ['p50', 'p99', 'max'])
      show(k, n ? stat[k] : null, n ? fmtMs(stat[k]) : '–');
    entry.idle.hidden = n > 0;
    entry.card.dataset.idle = String(n === 0);
  }

  function codesText(codes) {
    return Object.entries(codes || {}).sort().map(([c, n]) => c + '×' + n).join(' ');
  }

  function statCells(s) {
    return [
      el('td', { class: 'num', 'data-field': 'count', text: String(s.count || 0) }),
      el('td', { class: 'num', 'data-field': 'm1', text: fmtNum(s.m1 || 0, 2) }),
      el('td', { class: 'num', 'data-field': 'errCount', text: String(s.errCount || 0) }),
      el('td', { class: 'num', 'data-field': 'p50', text: s.count ? fmtMs(s.p50) : '–' }),
      el('td', { class: 'num', 'data-field': 'p99', text: s.count ? fmtMs(s.p99) : '–' }),
      el('td', { 'data-field': 'codes', text: codesText(s.codes) }),
    ];
  }

  function statHeads(first) {
    return el('thead', {}, [el('tr', {}, first.concat(['Requests', 'm1', 'Errors', 'p50 ms', 'p99 ms', 'Codes'])
      .map((h) => el('th', { scope: 'col', text: h })))]);
  }

  function renderTopN(entry, topN) {
    const rows = (topN || []).map((p) => el('tr', { 'data-path': p.path }, [
      el('th', { scope: 'row', text: p.path })].concat(statCells(p))));
    const table = el('table', { 'data-table': 'topn' }, [
      el('caption', { text: 'Top paths of ' + entry.name + ' by requests' }),
      statHeads(['Path']),
      el('tbody', {}, rows.length ? rows
        : [el('tr', {}, [el('td', { colspan: '7', class: 'empty', text: 'No requests yet.' })])]),
    ]);
    entry.extra.replaceChildren(table);
  }

  function poolRows(poolName, pool) {
    const rows = [el('tr', { class: 'pool', 'data-pool': poolName }, [
      el('th', { scope: 'row', colspan: '2', text: poolName + ' (all servers)' })].concat(statCells(pool.stat || {})))];
    for (const [url, s] of Object.entries(pool.servers || {}).sort())
      rows.push(el('tr', { 'data-pool': poolName, 'data-backend': url }, [
        el('td', { text: poolName }), el('th', { scope: 'row', text: url })].concat(statCells(s))));
    return rows;
  }

  function renderBackends(entry, filters) {
    const tables = [];
    for (const [fname, f] of Object.entries(filters || {}).sort()) {
      if (!f || !f.mainPool) continue;
      let rows = poolRows('mainPool', f.mainPool);
      (f.candidatePools || []).forEach((p, i) => { rows = rows.concat(poolRows('candidatePools[' + i + ']', p)); });
      tables.push(el('table', { 'data-table': 'backends', 'data-filter': fname }, [
        el('caption', { text: 'Backends of filter ' + fname + ' (' + (f.kind || 'Proxy') + ')' }),
        statHeads(['Pool', 'Server']),
        el('tbody', {}, rows),
      ]));
    }
    if (!tables.length) tables.push(el('p', { class: 'empty', text: 'No Proxy filter in this pipeline.' }));
    entry.extra.replaceChildren(...tables);
  }

  function updateStats(status, t) {
    const seen = new Set();
    for (const [name, perMember] of Object.entries(status || {})) {
      const kind = objectKinds.get(name);
      if (kind !== 'HTTPServer' && kind !== 'Pipeline') continue;
      // Easegress-C runs one member; were there several, the first one's figures are shown
      // and the card says so (top-N, percentiles and pools cannot be summed from them).
      const members = Object.keys(perMember || {}).sort();
      if (!members.length) continue;
      const figures = perMember[members[0]];
      const stat = kind === 'Pipeline' ? (figures.stat || {}) : figures;
      const key = kind + '/' + name;
      seen.add(key);
      let entry = tracked.get(key);
      if (!entry) {
        entry = makeCard(kind, name);
        tracked.set(key, entry);
        const parent = document.getElementById(kind === 'HTTPServer' ? 'servers' : 'pipelines');
        const after = Array.from(parent.children).find((c) => c.dataset.name > name);
        parent.insertBefore(entry.card, after || null);
      }
      const sample = addSample(entry, stat, t);
      fillFigures(entry, stat, sample);
      const onMember = members.length > 1 ? ' · member ' + members[0] + ' of ' + members.length : '';
      if (kind === 'HTTPServer') {
        entry.meta.textContent = ' port ' + figures.port + ' · ' + (figures.state || '') + ' · ' +
          (figures.health || '') + onMember;
        renderTopN(entry, figures.topN);
      } else {
        entry.meta.textContent = ' ' + (figures.health || '') + onMember;
        renderBackends(entry, figures.filters);
      }
      for (const c of entry.charts) drawChart(c, entry.samples, t);
    }
    for (const [key, entry] of tracked) {
      if (!seen.has(key)) {
        entry.card.remove();
        tracked.delete(key);
      }
    }
    document.getElementById('servers-empty').hidden = document.getElementById('servers').children.length > 0;
    document.getElementById('pipelines-empty').hidden = document.getElementById('pipelines').children.length > 0;
  }

  // ---- the loop ----

  // Only a failed read means the API is down; a rendering bug is thrown on, to the console,
  // rather than shown as an outage. The next poll is set first, so neither stops the loop.
  async function poll() {
    let objects, status, members;
    try {
      [objects, status, members] = await Promise.all([
        getJSON('/objects'), getJSON('/status/objects'), getJSON('/status/members')]);
    } catch (err) {
      setTimeout(poll, POLL_MS);
      setApiState(false, err);
      return;
    }
    setTimeout(poll, POLL_MS);
    setApiState(true);
    renderObjects(objects);
    renderMembers(members);
    updateStats(status, Date.now());
  }

  document.getElementById('spec-yaml').addEventListener('click', () => {
    if (selectedSpec) showSpec(selectedSpec.name, 'yaml');
  });
  document.getElementById('spec-json').addEventListener('click', () => {
    if (selectedSpec) showSpec(selectedSpec.name, 'json');
  });
  document.getElementById('spec-close').addEventListener('click', () => {
    selectedSpec = null;
    document.getElementById('spec-view').hidden = true;
  });
  poll();
}());
