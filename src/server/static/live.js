// Live refresh: polls the account's status JSON every 1.5 s; when it changed, the page's live region is
// fetched again (`?live=1`) and swapped in (one renderer: the server). Forms outside it keep what is typed.
/* global document, location, fetch, URL, setTimeout */
(function () {
  var live = document.getElementById('live');
  if (!live) return;
  var src = live.getAttribute('data-status');
  var last = null;
  function tick() {
    fetch(src, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        if (r.status === 401) {
          location.reload();
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (body) {
        if (body === null) return;
        if (last !== null && body !== last) {
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
        last = body;
      })
      .catch(function () {})
      .then(function () {
        setTimeout(tick, 1500);
      });
  }
  tick();
})();
