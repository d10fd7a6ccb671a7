// Live refresh: polls the account's status JSON every 1.5 s while the tab is visible, every 30 s while it is
// hidden, and at once when it becomes visible again. Each poll sends the last ETag (If-None-Match), so an
// unchanged status is a 304 without a body. When it changed, the page's live region is fetched again
// (`?live=1`) and swapped in (one renderer: the server). Forms outside it keep what is typed.
/* global document, location, fetch, URL, setTimeout, clearTimeout */
(function () {
  var live = document.getElementById('live');
  if (!live) return;
  var src = live.getAttribute('data-status');
  var VISIBLE_MS = 1500;
  var HIDDEN_MS = 30000;
  var last = null;
  var etag = null;
  var timer = null;
  var busy = false;

  function hidden() {
    return document.visibilityState === 'hidden';
  }

  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(tick, hidden() ? HIDDEN_MS : VISIBLE_MS);
  }

  function refresh() {
    var u = new URL(location.href);
    u.searchParams.set('live', '1');
    return fetch(u, { credentials: 'same-origin' })
      .then(function (r) {
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html) live.innerHTML = html;
      });
  }

  function tick() {
    timer = null;
    if (busy) return;
    busy = true;
    var headers = { accept: 'application/json' };
    if (etag) headers['if-none-match'] = etag;
    // The ETag is sent by hand (the HTTP cache is not asked): a 304 reaches this code as it is.
    fetch(src, { headers: headers, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401) {
          location.reload();
          return null;
        }
        if (r.status === 304 || !r.ok) return null;
        etag = r.headers.get('etag');
        return r.text();
      })
      .then(function (body) {
        if (body === null) return;
        var changed = last !== null && body !== last;
        last = body;
        if (changed) return refresh();
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        schedule();
      });
  }

  document.addEventListener('visibilitychange', function () {
    if (hidden()) return schedule();
    // Back in view: ask now instead of at the end of the long hidden wait.
    if (!busy) {
      if (timer !== null) clearTimeout(timer);
      tick();
    }
  });
  tick();
})();
