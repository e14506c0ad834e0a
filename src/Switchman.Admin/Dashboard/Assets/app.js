// Switchman's dashboard: a view of one node through its admin API, with the token the operator signs in with.
// Everything shown comes from /api/v1 and is rendered as text (never as HTML); the page refreshes every two seconds and
// at once when the node's event stream says something changed. Actions (admin tokens only) ask for confirmation first.
'use strict';

(() => {
  const TOKEN_KEY = 'switchman.token';
  const REFRESH_MS = 2000;
  const EVENT_REFRESH_DELAY_MS = 150;
  const RECONNECT_MS = 2000;
  // A frozen or powered-off node closes nothing: a request it does not answer, or a stream it stops feeding, has to be
  // given up on by the page. The node sends a heartbeat every 5 s, so 12 s of silence means it is gone.
  const REQUEST_TIMEOUT_MS = 10000;
  const STREAM_SILENCE_MS = 12000;
  const MAX_EVENTS = 200;

  const $ = (id) => document.getElementById(id);

  /** Builds an element; text and attributes are set as text, so nothing from the API can become markup. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const badge = (text, kind) => el('span', { class: `badge ${kind || text}`, text });

  function ago(iso) {
    if (!iso) return '';
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) return `${seconds}s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
    return `${Math.floor(seconds / 86400)}d ago`;
  }

  const when = (iso) => (iso ? el('time', { datetime: iso, title: iso, text: ago(iso) }) : el('span', { class: 'muted', text: '—' }));

  function table(headings, rows) {
    return el('table', {},
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', { class: h.num ? 'num' : null, text: h.text ?? h })))),
      el('tbody', {}, rows));
  }

  const cell = (content, cls) => el('td', { class: cls }, content ?? el('span', { class: 'muted', text: '—' }));

  // ---- the API ---------------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  const session = { token: null, who: null, abort: null, timer: null, lastEventId: null, streaming: false, reachable: true };

  /** Aborted when the page signs out, or when the node has not answered in time. */
  function requestSignal() {
    const signals = [AbortSignal.timeout(REQUEST_TIMEOUT_MS)];
    if (session.abort) signals.push(session.abort.signal);
    return AbortSignal.any(signals);
  }

  async function call(method, path, body) {
    const headers = { Authorization: `Bearer ${session.token}`, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', signal: requestSignal() };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let doc = null;
    try {
      doc = text ? JSON.parse(text) : null;
    } catch {
      doc = null;
    }
    if (!response.ok) {
      const message = doc && typeof doc.error === 'string' ? doc.error : `${response.status} ${response.statusText}`;
      if (response.status === 401) signOut(message);
      throw new ApiError(response.status, message);
    }
    return doc;
  }

  // ---- signing in and out ----------------------------------------------------------------------------------------

  function showSignIn(message) {
    $('dashboard-view').hidden = true;
    $('sign-out').hidden = true;
    $('who').textContent = '';
    $('node').textContent = '';
    setStreaming(false);
    $('sign-in-view').hidden = false;
    $('sign-in-error').textContent = message || '';
    $('token').focus();
  }

  async function signIn(token) {
    session.token = token;
    session.reachable = true;
    session.abort = new AbortController();
    try {
      session.who = await call('GET', '/api/v1/whoami');
    } catch (error) {
      // A refusal (401; 429 after too many failures from this address) carries the node's reason; anything else means no answer.
      const refused = error.status === 401 || error.status === 429;
      if (!refused) stop();
      showSignIn(refused ? error.message : `The node did not answer: ${error.message}`);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('sign-in-view').hidden = true;
    $('dashboard-view').hidden = false;
    $('sign-out').hidden = false;
    $('who').textContent = `${session.who.name} (${session.who.role})`;
    $('events').replaceChildren();
    session.lastEventId = null;
    await refresh();
    session.timer = setInterval(refresh, REFRESH_MS);
    followEvents(session.abort.signal);
  }

  function stop() {
    session.abort?.abort();
    session.abort = null;
    clearInterval(session.timer);
    session.timer = null;
  }

  function signOut(message) {
    stop();
    session.token = null;
    session.who = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(message);
  }

  const isAdmin = () => session.who?.role === 'admin';

  // ---- refreshing --------------------------------------------------------------------------------------------------

  let refreshing = null;
  let refreshAgain = false;
  let eventRefresh = null;

  /** One refresh at a time; a request for one while it runs makes it run once more afterwards. */
  function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        await refreshOnce();
      } while (refreshAgain && session.token);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function refreshOnce() {
    if (!session.token) return;
    try {
      const status = await call('GET', '/api/v1/status');
      const [services, cluster] = await Promise.all([
        call('GET', '/api/v1/services'),
        status.cluster ? call('GET', '/api/v1/cluster') : Promise.resolve(null),
      ]);
      render(status, services, cluster);
      setReachable(true);
      if ($('notice').classList.contains('stale')) notice('');
      $('refreshed').textContent = `as node ${status.node.id} sees them, ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (error.name === 'AbortError' || error.status === 401) return;
      setReachable(false);
      const why = error.name === 'TimeoutError' ? `it did not answer within ${REQUEST_TIMEOUT_MS / 1000} s` : error.message;
      notice(`Could not refresh from the node: ${why}. What is shown may be out of date.`, 'error stale');
    }
  }

  function notice(text, kind) {
    const box = $('notice');
    box.textContent = text;
    box.className = kind || '';
  }

  // ---- rendering -----------------------------------------------------------------------------------------------

  function render(status, services, cluster) {
    const node = status.node;
    $('node').replaceChildren(el('span', {},
      `node ${node.id} · revision ${node.revision} · ${node.version} · `,
      status.ready ? badge('ready') : badge('not ready', 'down'),
      node.standby ? [' ', badge('standby', 'maint')] : null));
    $('backends').replaceChildren(...status.backends.map(renderBackend));
    $('frontends').replaceChildren(renderFrontends(status.frontends));
    $('cluster').replaceChildren(renderCluster(status.cluster, cluster));
    $('vips').replaceChildren(renderVips(status.vips));
    $('services').replaceChildren(renderServices(services.services));
  }

  function renderBackend(backend) {
    const headings = ['Server', 'Address', 'Health', 'State', { text: 'Weight', num: true }, { text: 'In flight', num: true },
      { text: 'Req/s', num: true }, { text: 'Requests', num: true }, 'Last check'];
    if (isAdmin()) headings.push('Actions');
    const rows = backend.servers.map((server) => renderServer(backend.name, server));
    return el('div', { class: 'backend', 'data-backend': backend.name },
      el('div', { class: 'backend-title' }, backend.name,
        el('span', { class: 'meta', text: `${backend.balance} · ${backend.available_servers} of ${backend.servers.length} servers available` })),
      table(headings, rows));
  }

  function renderServer(backend, server) {
    const check = server.last_check;
    const health = [badge(server.health)];
    if (server.suspect_since) health.push(' ', el('span', { class: 'badge suspect', title: `suspect since ${server.suspect_since}`, text: 'suspect' }));
    if (server.ejected_until) health.push(' ', el('span', { class: 'badge down', title: `ejected until ${server.ejected_until}`, text: 'ejected' }));
    if (server.held_out) health.push(' ', el('span', { class: 'badge maint', title: server.held_out, text: 'held out' }));
    const row = el('tr', { 'data-server': `${backend}/${server.name}` },
      cell([server.name, server.backup ? el('span', { class: 'muted', text: ' (backup)' }) : null]),
      cell(server.address),
      el('td', { class: 'health' }, health),
      el('td', { class: 'state' }, badge(server.state)),
      cell(String(server.weight), 'num weight'),
      cell(String(server.in_flight), 'num in-flight'),
      cell(server.request_rate.toFixed(1), 'num'),
      cell(String(server.requests_total), 'num'),
      check
        ? el('td', { class: check.success ? 'check' : 'check check-failed', title: check.time },
          `${check.detail} · ${check.duration_ms.toFixed(1)} ms · `, when(check.time))
        : cell(null, 'check'));
    if (isAdmin()) row.append(el('td', { class: 'actions' }, serverActions(backend, server)));
    return row;
  }

  const stateActions = {
    ready: 'takes requests again on every load balancer of the cluster.',
    drain: 'takes no new requests on any load balancer of the cluster (clients pinned to it by a sticky cookie still reach it); requests in flight finish.',
    maint: 'takes no requests at all on any load balancer of the cluster; requests in flight finish.',
  };

  function serverActions(backend, server) {
    const name = `${backend}/${server.name}`;
    const path = `/api/v1/backends/${encodeURIComponent(backend)}/servers/${encodeURIComponent(server.name)}`;
    const buttons = Object.keys(stateActions).map((state) => el('button', {
      type: 'button',
      'data-action': state,
      disabled: server.state === state,
      text: state[0].toUpperCase() + state.slice(1),
      onclick: () => confirmAction({
        title: `Set ${name} to ${state}?`,
        text: `${name} ${stateActions[state]}`,
        run: () => call('POST', `${path}/state`, { state }),
        done: (result) => `${name} is now ${result.state}.`,
      }),
    }));
    buttons.push(el('button', {
      type: 'button',
      'data-action': 'weight',
      text: 'Weight…',
      onclick: () => confirmAction({
        title: `Change the weight of ${name}?`,
        text: `Its share of new requests on every load balancer of the cluster, relative to the other servers' weights (now ${server.weight}; 0 sends it none).`,
        weight: server.weight,
        run: (weight) => call('PUT', `${path}/weight`, { weight }),
        done: (result) => `${name} now has weight ${result.weight}.`,
      }),
    }));
    return buttons;
  }

  function renderFrontends(frontends) {
    if (frontends.length === 0) return el('p', { class: 'muted', text: 'No frontend on this node.' });
    return table(['Frontend', 'Listen', 'URLs'], frontends.map((f) =>
      el('tr', { 'data-frontend': f.name }, cell(f.name), cell(f.listen), cell(f.urls.join(' '), 'wrap'))));
  }

  function renderCluster(summary, cluster) {
    if (!summary) return el('p', { class: 'muted', text: 'This node runs alone (no cluster section in its configuration).' });
    const head = el('p', {}, `Term ${summary.term ?? '?'} · leader `, summary.leader ? el('strong', { text: summary.leader }) : badge('none', 'down'),
      ` · this node is ${summary.role ?? 'unknown'} · commit ${summary.commit_index ?? '?'}, applied ${summary.applied_index ?? '?'}`);
    const members = cluster?.members ?? [];
    // The error column only when a member has one: a healthy cluster's table stays narrow.
    const errors = members.some((m) => m.error);
    const rows = members.map((m) => el('tr', { 'data-member': m.id ?? m.address },
      cell([m.id ?? m.address, m.local ? el('span', { class: 'muted', text: ' (this node)' }) : null]),
      cell([m.role ?? '', m.leader ? [' ', badge('leader')] : null]),
      cell(badge(m.status)),
      cell(m.term == null ? null : String(m.term), 'num'),
      cell(m.revision == null ? null : String(m.revision), 'num'),
      cell(m.lag == null ? null : String(m.lag), 'num'),
      cell(m.local ? el('span', { class: 'muted', text: '—' }) : when(m.last_contact)),
      errors ? cell(m.error ?? null, 'wrap') : null));
    const headings = ['Member', 'Role', 'Status', { text: 'Term', num: true }, { text: 'Revision', num: true }, { text: 'Lag', num: true }, 'Last contact'];
    return el('div', {}, head, table(errors ? [...headings, 'Error'] : headings, rows));
  }

  function renderVips(vips) {
    if (vips.length === 0) return el('p', { class: 'muted', text: 'No VIP is configured.' });
    return table(['VIP', 'Address', 'Holder', 'Since', 'Why', 'Here'], vips.map((v) => el('tr', { 'data-vip': v.name },
      cell(v.name),
      cell(`${v.address} on ${v.interface}`),
      cell(v.holder ? v.holder : badge('nobody', 'down')),
      cell(when(v.since)),
      cell(v.reason ?? null, 'wrap'),
      cell(v.held_here ? badge('yes') : badge('no')))));
  }

  function renderServices(services) {
    if (services.length === 0) return el('p', { class: 'muted', text: 'No service is configured.' });
    const rows = [];
    for (const service of services) {
      const label = [service.name, el('span', { class: 'muted', text: ` ${service.placement}` })];
      if (service.stopped_by) label.push(' ', el('span', { class: 'badge stopped', title: `stopped by ${service.stopped_by}`, text: 'stopped' }));
      if (service.instances.length === 0) {
        rows.push(el('tr', { 'data-service': service.name }, cell(label), cell(null), cell(null), cell(null), cell(null), cell(null), cell(null)));
      }
      for (const instance of service.instances) {
        rows.push(el('tr', { 'data-service': service.name, 'data-node': instance.node },
          cell(label),
          cell(instance.node),
          el('td', { class: 'service-state' }, badge(instance.state)),
          cell(instance.pid == null ? null : String(instance.pid), 'num'),
          cell(when(instance.started_at)),
          cell(String(instance.failures), 'num'),
          cell(instance.problem ?? instance.last_failure ?? null, 'wrap')));
      }
    }
    return table(['Service', 'Node', 'State', { text: 'PID', num: true }, 'Started', { text: 'Failures', num: true }, 'Problem'], rows);
  }

  // ---- actions -----------------------------------------------------------------------------------------------------

  /** Asks before acting; the dialog stays open with the API's message when the action is refused. */
  function confirmAction(action) {
    const dialog = $('confirm');
    $('confirm-title').textContent = action.title;
    $('confirm-text').textContent = action.text;
    $('confirm-error').textContent = '';
    const weighted = action.weight !== undefined;
    $('confirm-weight-row').hidden = !weighted;
    if (weighted) $('confirm-weight').value = String(action.weight);
    const ok = $('confirm-ok');
    ok.disabled = false;
    ok.onclick = async () => {
      let argument;
      if (weighted) {
        argument = Number($('confirm-weight').value);
        if (!Number.isInteger(argument) || argument < 0 || argument > 256) {
          $('confirm-error').textContent = 'The weight must be a whole number from 0 to 256.';
          return;
        }
      }
      ok.disabled = true;
      try {
        const result = await action.run(argument);
        dialog.close();
        notice(action.done(result));
        await refresh();
      } catch (error) {
        $('confirm-error').textContent = error.message;
        ok.disabled = false;
      }
    };
    $('confirm-cancel').onclick = () => dialog.close();
    dialog.showModal();
  }

  // ---- the event stream ----------------------------------------------------------------------------------------------

  /** Live: the event stream is connected and the last refresh got an answer. */
  function showLive() {
    const on = session.streaming && session.reachable;
    const live = $('live');
    live.textContent = on ? 'live' : 'offline';
    live.className = on ? 'live on' : 'live off';
  }

  function setStreaming(on) {
    session.streaming = on;
    showLive();
  }

  function setReachable(on) {
    session.reachable = on;
    showLive();
  }

  /**
   * Follows /api/v1/events (Server-Sent Events, read with fetch so that the token goes in a header). A connection that
   * stays silent longer than the heartbeat allows is dropped; every new one starts after the last event seen, so what
   * happened meanwhile arrives once.
   */
  async function followEvents(signal) {
    while (!signal.aborted) {
      const connection = new AbortController();
      const drop = () => connection.abort();
      signal.addEventListener('abort', drop);
      let silence = setTimeout(drop, STREAM_SILENCE_MS);
      try {
        const since = session.lastEventId === null ? '' : `?since=${encodeURIComponent(session.lastEventId)}`;
        const response = await fetch(`/api/v1/events${since}`, {
          headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' },
          cache: 'no-store',
          signal: connection.signal,
        });
        if (response.status === 401) {
          signOut('The node no longer accepts this token.');
          return;
        }
        if (!response.ok) throw new Error(`${response.status}`);
        setStreaming(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          clearTimeout(silence);
          silence = setTimeout(drop, STREAM_SILENCE_MS);
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const message = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (message) onEvent(message);
          }
        }
      } catch {
        // Dropped (silence, sign-out) or refused: the loop decides whether to go on.
      } finally {
        clearTimeout(silence);
        signal.removeEventListener('abort', drop);
      }
      if (signal.aborted) return;
      setStreaming(false);
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  function parseEvent(block) {
    let id = null;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'data') data += data ? `\n${value}` : value;
    }
    if (!data) return null;
    return { id, event: JSON.parse(data) };
  }

  function onEvent({ id, event }) {
    if (id !== null) session.lastEventId = id;
    const list = $('events');
    list.prepend(el('li', { 'data-type': event.type, 'data-id': id },
      el('time', { datetime: event.time, title: event.time, text: new Date(event.time).toLocaleTimeString() }),
      el('span', { class: 'type', text: event.type }),
      el('span', { class: 'message', text: event.message })));
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    // Something changed: show it now rather than at the next tick (many events at once make one refresh).
    clearTimeout(eventRefresh);
    eventRefresh = setTimeout(refresh, EVENT_REFRESH_DELAY_MS);
  }

  // ---- start -----------------------------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      $('token').value = '';
      if (token) signIn(token);
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
    else showSignIn('');
  });
})();
