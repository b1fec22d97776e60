// Swaps in the live part of a page when the server sends it (Server-Sent Events).
// Old browsers without EventSource keep the page as it was rendered.
(function () {
  var box = document.getElementById("live");
  if (!box || !window.EventSource) { return; }
  var events = new EventSource(box.getAttribute("data-stream"));
  events.addEventListener(box.getAttribute("data-event") || "dash", function (e) {
    box.innerHTML = e.data;
    box.setAttribute("data-version", String(Number(box.getAttribute("data-version") || 0) + 1));
    if (e.data.indexOf("data-called") >= 0 && navigator.vibrate) { navigator.vibrate([300, 100, 300]); }
  });
})();
