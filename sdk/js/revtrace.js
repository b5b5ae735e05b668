/*! revtrace browser script. No dependencies.
 *
 *   <script src="https://REVTRACE/sdk/revtrace.js" data-company-key="pk_…" data-shopify defer></script>
 *
 * - A visitor fingerprint is kept for the browser session (sessionStorage);
 *   `revtrace('fingerprint')` returns it, for the assistant's tickets.
 * - `revtrace('sendCartEvent', {event_type, product_id, variant_id, quantity, unit_price, currency})`
 *   and `revtrace('sendCheckoutEvent', {order_id, order_value, currency, line_items})`
 *   add the fingerprint themselves and return a promise of the answer.
 * - A visit ping is sent once per session.
 * - `revtrace('assign', 'ai-holdout')` returns a promise of the visitor's
 *   arm in an experiment, `{experiment, arm, assistant, ai_profile_id,
 *   exposed_at}`, and records the exposure; the answer is kept for the
 *   session (one call per experiment). A widget hides itself when
 *   `assistant` is false and runs `ai_profile_id` when one is given; if the
 *   promise rejects (revtrace unreachable), it keeps its default experience.
 * - With `data-shopify`, the theme's Ajax Cart calls (/cart/add.js, change.js,
 *   update.js, clear.js, through fetch or XMLHttpRequest) are watched: added
 *   items carry the fingerprint as a line-item property, every change of the
 *   cart becomes the matching cart event (Ajax prices are integer subunits:
 *   divided by 100), and the cart token is recorded so the order can be
 *   matched. Changes are taken from the call's own answer and sent at once
 *   (keepalive, or a beacon if the page is leaving), so a theme that goes
 *   to /cart right after adding loses nothing; the last cart seen is kept
 *   for the session, so the next page diffs against it.
 * Requests are sent as text/plain JSON (no CORS preflight); revtrace answers
 * only the company's allowed origins.
 */
(function () {
  'use strict';
  if (window.revtrace && window.revtrace.loaded) return;
  var queued = (window.revtrace && window.revtrace.q) || [];
  var script = document.currentScript;
  var config = {
    endpoint: script ? new URL(script.src, location.href).origin : '',
    companyKey: script && script.getAttribute('data-company-key'),
    property: (script && script.getAttribute('data-fingerprint-property')) || '_revtrace_fingerprint',
    shopify: !!(script && script.hasAttribute('data-shopify')),
  };
  var STORE = 'revtrace.fingerprint';
  var CART_PATH = /\/cart\/(add|change|update|clear)(\.js)?(\?|$)/;
  var nativeFetch = window.fetch && window.fetch.bind(window);

  function fingerprint() {
    var fp = null;
    try { fp = sessionStorage.getItem(STORE); } catch (e) { /* storage blocked */ }
    if (!fp) {
      var bytes = new Uint8Array(12);
      (window.crypto || window.msCrypto).getRandomValues(bytes);
      fp = 'fp-' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
      try { sessionStorage.setItem(STORE, fp); } catch (e) { /* kept for this page only */ }
    }
    return fp;
  }

  function send(path, body) {
    body.company_key = config.companyKey;
    return nativeFetch(config.endpoint + path, {
      method: 'POST',
      // text/plain keeps this a "simple" request: no preflight round trip.
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(body),
      keepalive: true,
      credentials: 'omit',
    }).then(function (r) {
      return r.status === 204 ? null : r.json().then(function (answer) {
        if (!r.ok) throw Object.assign(new Error((answer.error && answer.error.message) || r.statusText), { answer: answer });
        return answer;
      });
    });
  }

  // Events go out one after another, so a removal never overtakes its add.
  // Those still waiting when the page goes away leave as beacons, in order.
  var chain = Promise.resolve();
  var pending = [];
  function enqueue(path, body) {
    var item = { path: path, body: body };
    pending.push(item);
    var next = chain.then(function () {
      var at = pending.indexOf(item);
      if (at < 0) return null;  // already sent as a beacon
      pending.splice(at, 1);
      return send(path, body);
    });
    chain = next.catch(function () { /* a refused event does not stop the next */ });
    return next;
  }
  window.addEventListener('pagehide', function () {
    if (!navigator.sendBeacon) return;
    pending.splice(0).forEach(function (item) {
      item.body.company_key = config.companyKey;
      navigator.sendBeacon(config.endpoint + item.path,
        new Blob([JSON.stringify(item.body)], { type: 'text/plain;charset=UTF-8' }));
    });
  });

  var commands = {
    init: function (options) { for (var k in options) config[k] = options[k]; start(); },
    fingerprint: fingerprint,
    sendCartEvent: function (event) {
      var body = Object.assign({}, event, { user_fingerprint: fingerprint() });
      return enqueue('/analytics/cart_events', body);
    },
    sendCheckoutEvent: function (event) {
      var body = Object.assign({}, event, { user_fingerprint: fingerprint() });
      return enqueue('/analytics/checkout_events', body);
    },
    visit: function () { return enqueue('/analytics/visits', { user_fingerprint: fingerprint() }); },
    assign: assign,
  };

  // One answer per experiment and session: the arm never changes, and the
  // widget can ask on every page without a request each time.
  var assignments = {};
  function assign(key) {
    if (typeof key !== 'string' || !key) return Promise.reject(new Error('revtrace: assign needs an experiment key'));
    var stored = null;
    try { stored = JSON.parse(sessionStorage.getItem('revtrace.assign.' + key)); } catch (e) { /* none kept */ }
    if (stored) return Promise.resolve(stored);
    if (!assignments[key]) {
      assignments[key] = send('/analytics/assignments', { experiment: key, fingerprint: fingerprint() }).then(
        function (answer) {
          try { sessionStorage.setItem('revtrace.assign.' + key, JSON.stringify(answer)); } catch (e) { /* page only */ }
          return answer;
        },
        function (error) { delete assignments[key]; throw error; }
      );
    }
    return assignments[key];
  }

  function revtrace(command, payload) {
    var run = commands[command];
    if (!run) throw new Error('revtrace: unknown command ' + command);
    return run(payload);
  }
  revtrace.loaded = true;
  window.revtrace = revtrace;

  // ---- Shopify theme mode ----------------------------------------------------

  // The last cart seen, kept for the session so that a change made just
  // before a navigation (a theme that goes to /cart as soon as /cart/add
  // answers) is measured against the right starting point on the next page.
  var CART_STORE = 'revtrace.cart', TOKEN_STORE = 'revtrace.cart_token';
  var cart = load(CART_STORE);     // {currency, lines: {key: line}} or null
  var cartToken = load(TOKEN_STORE);
  // Bumped by every change taken from an answer: a /cart.js read that
  // started before one is stale and is read again rather than diffed.
  var version = 0;

  function load(key) {
    try { return JSON.parse(sessionStorage.getItem(key)); } catch (e) { return null; }
  }
  function keep(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* this page only */ }
  }

  function cartUrl() {
    var root = (window.Shopify && window.Shopify.routes && window.Shopify.routes.root) || '/';
    return root + 'cart.js';
  }

  function readCart() {
    return nativeFetch(cartUrl(), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); });
  }

  // Only what a later diff needs, so the stored snapshot stays small.
  function lineOf(item) {
    return { product_id: String(item.product_id || item.id), variant_id: item.variant_id ? String(item.variant_id) : null,
      quantity: Number(item.quantity) || 0, price: item.final_price !== undefined ? item.final_price : item.price };
  }
  function keyOf(item) { return item.key || String(item.variant_id || item.id); }
  function snapshot(c) {
    var byKey = {};
    (c && c.items || []).forEach(function (item) { byKey[keyOf(item)] = lineOf(item); });
    return { currency: (c && c.currency) || (cart && cart.currency) || 'USD', lines: byKey };
  }
  function isCart(c) { return c && typeof c === 'object' && Array.isArray(c.items) && 'item_count' in c; }

  function cartEvent(type, line, quantity, currency) {
    var event = {
      event_type: type,
      product_id: line.product_id,
      quantity: quantity,
      // The Ajax API gives integer subunits of the presentment currency.
      unit_price: (Number(line.price) / 100).toFixed(2),
      currency: currency || 'USD',
    };
    if (line.variant_id) event.variant_id = line.variant_id;
    if (cartToken) event.cart_token = cartToken;
    commands.sendCartEvent(event).catch(function () { /* refused: nothing to retry */ });
  }

  function recordToken(c) {
    if (c && c.token && c.token !== cartToken && c.item_count > 0) {
      cartToken = c.token;
      keep(TOKEN_STORE, cartToken);
      enqueue('/analytics/cart_tokens', { cart_token: c.token, user_fingerprint: fingerprint() });
    }
  }

  // Sends what changed between the last cart seen and `now`, then keeps `now`.
  function diff(now) {
    var before = (cart && cart.lines) || {}, after = now.lines;
    Object.keys(after).forEach(function (key) {
      var was = before[key] ? before[key].quantity : 0, is = after[key].quantity;
      if (!was && is > 0) cartEvent('ITEM_ADDED', after[key], is, now.currency);
      else if (is > was) cartEvent('QUANTITY_INCREASED', after[key], is - was, now.currency);
      else if (is < was && is > 0) cartEvent('QUANTITY_DECREASED', after[key], was - is, now.currency);
    });
    Object.keys(before).forEach(function (key) {
      if (!after[key] || after[key].quantity === 0) cartEvent('ITEM_REMOVED', before[key], before[key].quantity, now.currency);
    });
    cart = now;
    keep(CART_STORE, cart);
  }

  // /cart/add answers with the added lines, each with its quantity now in
  // the cart: the add is sent from the answer itself, before the theme can
  // navigate away. A line that does not fit the snapshot is settled by a read.
  function applyAdded(answer) {
    var items = answer && (Array.isArray(answer.items) ? answer.items : answer.id ? [answer] : null);
    if (!items) return false;
    // Before the first read this is only part of the cart (partial).
    var now = { currency: (cart && cart.currency) || 'USD', lines: Object.assign({}, cart && cart.lines), partial: !cart || !!cart.partial };
    for (var i = 0; i < items.length; i++) {
      var was = now.lines[keyOf(items[i])];
      if (was && Number(items[i].quantity) <= was.quantity) return false;
      now.lines[keyOf(items[i])] = lineOf(items[i]);
    }
    version++;
    diff(now);
    return true;
  }

  // /cart/change, /cart/update and /cart/clear answer with the whole cart.
  function applyCart(answer) {
    if (!isCart(answer)) return false;
    version++;
    recordToken(answer);
    diff(snapshot(answer));
    return true;
  }

  // Reads of the cart run one after another, each diffed against the last.
  var syncing = Promise.resolve();
  function scheduleSync() { syncing = syncing.then(sync); return syncing; }
  function sync() {
    var started = version;
    return readCart().then(function (now) {
      if (!isCart(now)) return;
      recordToken(now);
      // An answer changed the snapshot while this read was out: read again.
      if (version !== started) return sync();
      // The session's first look (or one after an add answered before it):
      // the cart as it is becomes the starting point, nothing is sent.
      if (!cart || cart.partial) {
        cart = snapshot(now);
        return keep(CART_STORE, cart);
      }
      diff(snapshot(now));
    }).catch(function () { /* the cart could not be read: try again on the next change */ });
  }

  // After a cart call answered: take the change from the answer when it
  // says it all, read /cart.js otherwise (and, after an add, for the token).
  function answered(add, body) {
    var answer = null;
    try { answer = typeof body === 'string' ? JSON.parse(body) : body; } catch (e) { /* not JSON */ }
    if (add ? !applyAdded(answer) || !cartToken : !applyCart(answer)) scheduleSync();
  }

  function isCartCall(url, method) {
    return String(method || 'GET').toUpperCase() === 'POST' && CART_PATH.test(new URL(url, location.href).pathname);
  }

  function isAdd(url) { return /\/cart\/add(\.js)?$/.test(new URL(url, location.href).pathname); }

  // Adds the fingerprint property to the items of a /cart/add.js body.
  function withFingerprint(body) {
    var fp = fingerprint();
    if (typeof FormData !== 'undefined' && body instanceof FormData) {
      if (!body.has('properties[' + config.property + ']')) body.append('properties[' + config.property + ']', fp);
      return body;
    }
    if (typeof body === 'string') {
      try {
        var json = JSON.parse(body);
        var items = json.items || [json];
        items.forEach(function (item) { item.properties = Object.assign({}, item.properties); item.properties[config.property] = fp; });
        return JSON.stringify(json);
      } catch (e) {
        // A form-encoded body.
        return body + (body ? '&' : '') + encodeURIComponent('properties[' + config.property + ']') + '=' + encodeURIComponent(fp);
      }
    }
    return body;
  }

  function watchShopify() {
    if (!nativeFetch) return;
    window.fetch = function (input, init) {
      var url = typeof input === 'string' ? input : input.url;
      var method = (init && init.method) || (typeof input !== 'string' && input.method) || 'GET';
      if (!isCartCall(url, method)) return nativeFetch(input, init);
      var add = isAdd(url);
      if (add && init && init.body) init = Object.assign({}, init, { body: withFingerprint(init.body) });
      return nativeFetch(input, init).then(function (response) {
        // A copy of the answer: the theme reads the original.
        if (response.ok) response.clone().json().then(function (b) { answered(add, b); }, function () { answered(add, null); });
        return response;
      });
    };
    var open = XMLHttpRequest.prototype.open, sendXhr = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.open = function (method, url) {
      this._revtrace = isCartCall(url, method) ? { add: isAdd(url) } : null;
      return open.apply(this, arguments);
    };
    XMLHttpRequest.prototype.send = function (body) {
      var call = this._revtrace;
      if (call) {
        if (call.add) body = withFingerprint(body);
        this.addEventListener('loadend', function () {
          if (this.status < 200 || this.status >= 300) return;
          var type = this.responseType;
          answered(call.add, type === 'json' ? this.response : type === '' || type === 'text' ? this.responseText : null);
        });
      }
      return sendXhr.call(this, body);
    };
    // The cart as the page found it: diffed against the session's last one
    // (a change on the page before that this script did not see), or the
    // starting point of the session.
    syncing = sync();
  }

  var started = false;
  function start() {
    if (started || !config.companyKey) return;
    started = true;
    var visited = null;
    try { visited = sessionStorage.getItem('revtrace.visited'); } catch (e) { /* storage blocked */ }
    if (!visited) {
      commands.visit();
      try { sessionStorage.setItem('revtrace.visited', '1'); } catch (e) { /* once per page then */ }
    }
    if (config.shopify) watchShopify();
  }

  start();
  queued.forEach(function (args) { revtrace.apply(null, args); });
})();
