// The console's light JavaScript: live inbox rows, a live transcript, take over / reply / give back.
// Text from conversations is only ever set with textContent; the inbox rows are escaped server-side.
(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf"]')?.content || '';

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      headers: { 'X-CSRF-Token': csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
    });
    if (response.status === 401) {
      location.href = `/login?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`;
      throw new Error('signed out');
    }
    let data = {};
    try { data = await response.json(); } catch (_) { /* an empty or HTML answer */ }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function every(ms, fn) {
    let busy = false;
    const tick = async () => {
      if (busy || document.hidden) return;
      busy = true;
      try { await fn(); } catch (err) { console.warn(err.message); } finally { busy = false; }
    };
    tick();
    return setInterval(tick, ms);
  }

  // ---- inbox: refresh the rows and the hand-off queue
  const rows = document.getElementById('rows');
  if (rows) {
    const queue = document.getElementById('queue');
    every(3000, async () => {
      const params = new URLSearchParams(location.search);
      const data = await call('GET', `/inbox/rows?${params}`);
      if (rows.innerHTML !== data.rows) rows.innerHTML = data.rows;
      if (queue && queue.innerHTML !== data.queue) queue.innerHTML = data.queue;
    });
  }

  // ---- conversation
  const box = document.querySelector('section.conversation');
  if (!box) return;
  const id = box.dataset.id;
  const api = `/api/conversations/${encodeURIComponent(id)}`;
  const list = document.getElementById('transcript');
  const state = document.getElementById('state');
  const error = document.getElementById('error');
  const takeBtn = document.getElementById('takeover');
  const releaseBtn = document.getElementById('release');
  const form = document.getElementById('reply');
  const text = document.getElementById('reply-text');
  let last = 0;

  function el(tag, cls, content) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function pct(x) { return typeof x === 'number' ? ` (${Math.round(x * 100)}%)` : ''; }

  function render(turn) {
    const item = el('li', `turn ${turn.kind}`);
    const at = turn.at ? new Date(turn.at * 1000).toLocaleTimeString() : '';
    if (turn.kind === 'user') {
      item.append(el('span', 'who', 'Customer'), el('p', 'text', turn.text));
      if (turn.intent) item.append(el('span', 'meta', `intent ${turn.intent}${pct(turn.confidence)} · event ${turn.event_id}`));
    } else if (turn.kind === 'bot') {
      item.classList.add(turn.staff ? 'staff' : 'assistant');
      item.append(el('span', 'who', turn.staff ? `Staff: ${turn.staff}` : 'Assistant'), el('p', 'text', turn.text));
      if (turn.buttons?.length) item.append(el('span', 'meta', `buttons: ${turn.buttons.join(' | ')}`));
    } else if (turn.kind === 'action') {
      item.append(el('span', 'meta', `action ${turn.action}${pct(turn.confidence)}${turn.policy ? ` by ${turn.policy}` : ''}`));
    } else {
      const words = { pause: 'Assistant paused: staff took over', resume: 'Assistant resumed',
        session_started: 'New session', restart: 'Conversation restarted' };
      item.append(el('span', 'meta', words[turn.kind] || turn.kind));
    }
    if (at) item.append(el('time', 'at', at));
    list.append(item);
  }

  function show(conv) {
    const mine = conv.held_by_me;
    takeBtn.hidden = mine;
    releaseBtn.hidden = !mine;
    form.hidden = !mine;
    state.textContent = mine ? 'You have taken over: the assistant is paused here.'
      : conv.taken_by ? `${conv.taken_by} has taken over this conversation.` : 'The assistant is answering.';
  }

  function fail(err) {
    error.textContent = err.message;
    error.hidden = false;
  }

  async function poll() {
    const data = await call('GET', `${api}?after=${last}`);
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    data.turns.forEach(render);
    last = data.last_event_id;
    show(data.conversation);
    if (data.turns.length && atBottom) window.scrollTo(0, document.body.scrollHeight);
  }

  every(1000, poll);

  async function act(path, body) {
    error.hidden = true;
    try {
      await call('POST', `${api}/${path}`, body);
      await poll();
      return true;
    } catch (err) {
      fail(err);
      return false;
    }
  }

  takeBtn.addEventListener('click', () => act('takeover'));
  releaseBtn.addEventListener('click', () => act('release'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await act('messages', { text: text.value })) text.value = '';
  });
})();

// ---- knowledge editor: preview rendered (and escaped) by the server
(() => {
  'use strict';
  const button = document.getElementById('preview-button');
  if (!button) return;
  const csrf = document.querySelector('meta[name="csrf"]')?.content || '';
  button.addEventListener('click', async () => {
    const response = await fetch('/api/knowledge/preview', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ text: document.getElementById('page-text').value }),
    });
    const data = await response.json();
    document.getElementById('preview').innerHTML = response.ok ? data.html : '';
  });
})();
