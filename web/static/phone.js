// The phone page's live part: the server sends the ticket's new HTML (Server-Sent Events).
// Vibrates once per call where the phone allows it; stops when the ticket is finished.
(function () {
  var box = document.getElementById("tiket");
  if (!box || !window.EventSource) { return; }
  var card = box.firstElementChild;
  if (card && card.getAttribute("data-final")) { return; }  // nothing will change (or a form is open)
  var heard = card ? card.getAttribute("data-called") : null;
  var events = null;
  // Closed when the page is left, so that a page in the back-forward cache
  // holds no connection (see live.js); opened again when it comes back.
  window.addEventListener("pagehide", function () { if (events) { events.close(); events = null; } });
  window.addEventListener("pageshow", function (e) { if (e.persisted && !events) { open(); } });
  function open() {
    events = new EventSource(box.getAttribute("data-stream"));
    events.addEventListener("tiket", function (e) {
      box.innerHTML = e.data;
      var now = box.firstElementChild;
      if (!now) { return; }
      document.title = now.getAttribute("data-title") || document.title;
      var called = now.getAttribute("data-called");
      if (called && called !== heard && navigator.vibrate) { navigator.vibrate([400, 150, 400, 150, 400]); }
      heard = called;
      if (now.getAttribute("data-final")) { events.close(); }
    });
  }
  open();
})();
