// Swaps in the live part of a page when the server sends it (Server-Sent Events).
// Old browsers without EventSource keep the page as it was rendered.
// The stream closes when the page is left: Chromium keeps six connections per
// host, and a left page kept in the back-forward cache with its stream open
// holds one (bench/bench_web.py saw a page wait 58 s for a free connection).
(function () {
  var box = document.getElementById("live");
  if (!box || !window.EventSource) { return; }
  var events = null;
  function open() {
    events = new EventSource(box.getAttribute("data-stream"));
    events.addEventListener(box.getAttribute("data-event") || "dash", function (e) {
      box.innerHTML = e.data;
      box.setAttribute("data-version", String(Number(box.getAttribute("data-version") || 0) + 1));
      if (e.data.indexOf("data-called") >= 0 && navigator.vibrate) { navigator.vibrate([300, 100, 300]); }
    });
  }
  window.addEventListener("pagehide", function () { if (events) { events.close(); events = null; } });
  window.addEventListener("pageshow", function (e) { if (e.persisted && !events) { open(); } });
  open();
})();
