// The exit tablet's survey: big keys type into the number field, and the page
// starts again by itself (data-home) after data-idle seconds untouched, for the
// next resident. A scanner that types like a keyboard fills the same field.
(function () {
  var body = document.body;
  var home = body.getAttribute("data-home");
  var idle = parseFloat(body.getAttribute("data-idle")) * 1000;
  var timer = null;
  function rest() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { window.location.replace(home); }, idle);
  }
  ["pointerdown", "touchstart", "keydown", "input", "scroll"].forEach(function (name) {
    window.addEventListener(name, rest, { passive: true });
  });
  rest();
  var field = document.getElementById("nomor");
  if (!field) { return; }
  var keys = document.querySelectorAll("button[data-key]");
  for (var i = 0; i < keys.length; i++) {
    keys[i].addEventListener("click", function (e) {
      var key = e.currentTarget.getAttribute("data-key");
      if (key === "clear") { field.value = ""; }
      else if (key === "back") { field.value = field.value.slice(0, -1); }
      else if (/^[A-Z]/.test(key)) { field.value = key; }  // a letter starts a new number
      else { field.value += key; }
    });
  }
})();
