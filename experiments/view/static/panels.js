// storetwin view: the page's panels (headline, receipts, evidence, hover text). The 3-D side
// is viewer.js; it hands Panels.init the calls that move the timeline and select things.
window.Panels = (function () {
  'use strict';
  let D = null, api = null, skuIndex = new Map();
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const pct = (x) => (x == null ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  const name = (sku) => { const i = skuIndex.get(sku); return i == null ? '' : D.scene.catalogue.name[i]; };
  const money = (c) => (c == null ? '' : `$${(c / 100).toFixed(2)}`);

  function headline(data, el) {
    const m = data.metrics || {}, b = m.billing || {}, tr = m.tracking || {}, r = m.run || {};
    const parts = [`${r.store || data.scene.name}`, `${r.minutes ?? Math.round(data.t_end / 6) / 10} min`,
                   `${data.scene.cameras.position.length / 3} cameras`];
    if (b.exact_match != null) parts.push(`exact receipts ${pct(b.exact_match)}`);
    if (tr.hota != null) parts.push(`HOTA ${pct(tr.hota)}`);
    if (tr.id_switches != null) parts.push(`${tr.id_switches} id switches`);
    el.textContent = parts.join(' · ');
  }

  const PAGE = 100;    // receipts drawn at a time (a supercenter hour has thousands)
  let shown = PAGE, filter = 'all', query = '';

  function matching() {
    return D.receipts.filter((r) => (filter === 'all' || (filter === 'wrong' && (r.status === 'wrong' || r.status === 'missing')) ||
                                     (filter === 'review' && r.review)) &&
                                    (!query || String(r.account).includes(query) ||
                                     r.lines.some((l) => l.sku.toLowerCase().includes(query))));
  }

  function renderReceipts() {
    const box = document.getElementById('receipts');
    const all = matching(), rs = all.slice(0, shown);
    document.getElementById('receipt-count').textContent =
      `${D.receipts.filter((r) => r.status === 'exact').length} exact of ` +
      `${D.receipts.filter((r) => ['exact', 'wrong', 'missing'].includes(r.status)).length} scored`;
    box.innerHTML = rs.map((r) => {
      const badges = [`<span class="badge ${r.status === 'no truth' ? '' : r.status}">${esc(r.status)}</span>`];
      if (r.review) badges.push('<span class="badge review">review</span>');
      if (r.status === 'wrong' && !r.review) badges.push('<span class="badge wrong">silent</span>');
      if (r.status === 'missing') badges[0] = '<span class="badge wrong">missing</span>';
      const rows = r.lines.map((l) => {
        const bad = l.truth !== l.issued && r.status !== 'no truth';
        return `<tr class="line${bad ? ' bad' : ''}" data-account="${r.account}" data-sku="${esc(l.sku)}">` +
          `<td>${esc(l.sku)} <span class="muted">${esc(name(l.sku))}</span>${l.doubt ? ' &#9888;' : ''}</td>` +
          `<td class="num" title="true units">${l.truth}</td><td class="num" title="billed units">${l.issued}</td></tr>`;
      }).join('');
      const reasons = r.reasons.length ? `<div class="reasons">${r.reasons.map(esc).join('<br>')}</div>` : '';
      const acct = r.account < 0 ? 'alert (no account)' : `account ${r.account}`;
      return `<div class="receipt" data-account="${r.account}"><div class="head"><span class="acct">${acct}</span>` +
        `${badges.join(' ')}<span class="muted" style="margin-left:auto">${money(r.total)}` +
        `${r.confidence != null ? ` · p ${Number(r.confidence).toFixed(2)}` : ''}</span></div>` +
        `<table><tr class="muted"><td>line</td><td class="num">truth</td><td class="num">billed</td></tr>${rows}</table>${reasons}</div>`;
    }).join('') + (all.length > rs.length ? `<button id="more">${all.length - rs.length} more</button>` : '') ||
      '<p class="muted">No receipts match.</p>';
    const more = document.getElementById('more');
    if (more) more.addEventListener('click', () => { shown += PAGE; renderReceipts(); });
  }

  function showReceipt(account) {     // make sure its receipt is drawn (the filter allowing)
    const k = matching().findIndex((r) => r.account === account);
    if (k >= shown) { shown = k + 1; renderReceipts(); }
  }

  function eventHtml(kind, e, k) {
    const when = api.fmtTime(kind === 'truth' ? e.t : e.t_start);
    if (kind === 'truth') {
      return `<div class="event truth"><dl><dt>truth</dt><dd>${esc(e.action.replace('_', '-'))} ` +
        `${e.quantity} x ${esc(e.sku)} at ${when}</dd><dt>shopper</dt><dd>${e.shopper} (account ${e.account})</dd>` +
        `<dt>bin</dt><dd>${e.bin}</dd></dl><button data-jump="truth" data-k="${k}">show</button></div>`;
    }
    const cams = e.cameras && e.cameras.length ? e.cameras.join(', ') : 'none';
    return `<div class="event"><dl><dt>billed</dt><dd>${e.quantity > 0 ? 'take' : 'put-back'} ` +
      `${Math.abs(e.quantity)} x ${esc(e.sku)} at ${when}${e.misplaced ? ' (misplaced)' : ''}</dd>` +
      `<dt>track</dt><dd>${e.track} → account ${e.account < 0 ? 'unbound' : e.account}</dd>` +
      `<dt>by</dt><dd>${esc(e.method)}${e.method === 'hand' ? ' seen in the bin' : e.method === 'reach' ? ' (nearest in reach, no hand seen)' : ' (nobody seen)'}</dd>` +
      `<dt>cameras</dt><dd>${esc(cams)} saw a hand there</dd>` +
      `<dt>plate</dt><dd>${e.plate}, ${e.delta_g} g</dd>` +
      `<dt>confidence</dt><dd>${Number(e.confidence).toFixed(3)}</dd>` +
      `${e.doubt ? `<dt>review</dt><dd>${esc(e.doubt)}</dd>` : ''}</dl>` +
      `<button data-jump="billed" data-k="${k}">show</button></div>`;
  }

  function showEvidence(r, line) {
    const el = document.getElementById('evidence');
    const parts = [`<p><b>${esc(line.sku)}</b> ${esc(name(line.sku))}: ${line.truth} taken, ${line.issued} billed` +
                   `${line.doubt ? `<br><span class="muted">unsure: ${esc(line.doubt)}</span>` : ''}</p>`];
    line.billed.forEach((k) => parts.push(eventHtml('billed', D.billed[k], k)));
    line.events.forEach((k) => parts.push(eventHtml('truth', D.events[k], k)));
    if (!line.billed.length) {
      parts.push(`<p class="muted">${D.evidence_kept ? 'The core billed no shelf event of this sku to this account.'
        : 'This run was written before the core kept its evidence (ledger.json "billed"); run it again to see which track and cameras each line came from.'}</p>`);
    }
    if (r.reasons.length) parts.push(`<p><b>Review:</b> ${r.reasons.map(esc).join('; ')}</p>`);
    el.innerHTML = parts.join('');
    el.querySelectorAll('button[data-jump]').forEach((b) => b.addEventListener('click', () => {
      jump(b.dataset.jump, Number(b.dataset.k), r.account, line.sku);
    }));
  }

  function jump(kind, k, account, sku) {
    if (kind === 'truth') {
      const e = D.events[k];
      api.select({ account, sku, t: e.t, bin: e.bin, shopper: e.shopper, core: null, event: { kind, k } });
    } else {
      const e = D.billed[k];
      const shopper = (D.shoppers.find((p) => p.account === e.account) || {}).id;
      api.select({ account, sku, t: e.t_start, bin: e.bin, shopper: shopper ?? null, core: e.track, event: { kind, k } });
    }
  }

  function clickLine(account, sku) {
    const r = D.receipts.find((x) => x.account === account);
    const line = r && r.lines.find((l) => l.sku === sku);
    if (!line) return false;
    showReceipt(account);
    document.querySelectorAll('tr.line.selected').forEach((x) => x.classList.remove('selected'));
    const row = document.querySelector(`tr.line[data-account="${account}"][data-sku="${CSS.escape(sku)}"]`);
    if (row) { row.classList.add('selected'); row.scrollIntoView({ block: 'nearest' }); }
    showEvidence(r, line);
    if (line.billed.length) jump('billed', line.billed[0], account, sku);
    else if (line.events.length) jump('truth', line.events[0], account, sku);
    else api.select({ account, sku });
    return true;
  }

  function cartAt(items, tKey, t) {
    const cart = new Map();
    for (const e of items) {
      if (e[tKey] > t) break;
      const q = tKey === 't' ? (e.action === 'pick' ? e.quantity : -e.quantity) : e.quantity;
      cart.set(e.sku, (cart.get(e.sku) || 0) + q);
    }
    const lines = [...cart].filter(([, n]) => n > 0).map(([s, n]) => `${n} x ${s} ${name(s)}`);
    return lines.length ? lines.join('\n  ') : 'empty';
  }

  function describe(kind, id, account, t) {      // the hover text of a shopper or a track
    if (kind === 'shopper') {
      const p = D.shoppers.find((x) => x.id === id) || {};
      const mine = D.events.filter((e) => e.shopper === id);
      const near = mine.find((e) => Math.abs(e.t - t) < 2.5);
      const state = near ? `at a shelf (${near.action.replace('_', '-')})`
        : p.exit != null && t > p.exit - 3 ? 'leaving' : t < (p.enter ?? 0) + 3 ? 'entering' : 'shopping';
      return `shopper ${id} (truth)\naccount ${p.account ?? account}, ${p.visit ?? ''} visit\n` +
             `state: ${state}\ncart: ${cartAt(mine, 't', t)}`;
    }
    const mine = D.billed.filter((e) => e.track === id);
    return `core track ${id}\naccount ${account < 0 ? 'not bound' : account}\n` +
           `billed so far: ${cartAt(mine, 't_start', t)}`;
  }

  function init(data, calls) {
    D = data; api = calls;
    D.scene.catalogue.sku.forEach((s, i) => skuIndex.set(s, i));
    renderReceipts();
    document.querySelectorAll('input[name="rf"]').forEach((r) => r.addEventListener('change', (e) => {
      filter = e.target.value; shown = PAGE; renderReceipts();
    }));
    document.getElementById('find').addEventListener('input', (e) => {
      query = e.target.value.trim().toLowerCase(); shown = PAGE; renderReceipts();
    });
    document.getElementById('receipts').addEventListener('click', (e) => {
      const row = e.target.closest('tr.line');
      if (row) clickLine(Number(row.dataset.account), row.dataset.sku);
    });
    const notes = [];
    if (!D.truth) notes.push('no ground truth in this folder (a replay?): only the core is shown');
    if (!D.evidence_kept && D.billed.length === 0 && D.receipts.length) notes.push('this run kept no billing evidence (written before ledger.json "billed"); run it again for it');
    if (notes.length) { const n = document.getElementById('notice'); n.textContent = notes.join('; '); n.hidden = false; }
  }

  return { init, headline, describe, clickLine };
}());
