// OpenClaw /ui: live updates. Served as a file (the CSP allows no inline script). On a task
// event from /ui/events it fetches the page again and swaps in the new <main>; the page
// works without it, just without live updates.
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  var status = document.getElementById("live-status");
  if (!main || !window.EventSource) { return; }
  var busy = false;
  var again = false;

  function wanted(data) {
    var live = main.getAttribute("data-live") || "";
    if (live.indexOf("task:") !== 0) { return true; }
    return !data.id || live === "task:" + data.id;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        // Parsed inert (no script runs) from our own server-escaped HTML.
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (next) { main.replaceWith(next); main = next; }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  // Live output is not a task event: while a page follows a running task's output, it is
  // fetched again every few seconds (only then, and only while the tab is visible).
  setInterval(function () {
    if (!document.hidden && main.querySelector("[data-follow-output]")) { refresh(); }
  }, 3000);

  var source = new EventSource("/ui/events");
  source.addEventListener("open", function () {
    if (status) { status.className = "on"; status.textContent = "live"; }
  });
  source.addEventListener("error", function () {
    if (status) { status.className = "off"; status.textContent = "offline"; }
  });
  source.addEventListener("task", function (e) {
    var data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (wanted(data)) { refresh(); }
  });
})();
