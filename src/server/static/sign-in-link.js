// The one-time sign-in link's page: the code travels in the URL fragment (never sent to a server, never in
// a log or Referer); this posts it same-site, so the SameSite=Strict cookie is set on our own request.
/* global document, location, history */
document.getElementById('code').value = location.hash.slice(1);
history.replaceState(null, '', location.pathname);
document.getElementById('link').submit();
