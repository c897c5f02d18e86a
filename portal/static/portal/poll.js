// ClickLedger portal: a page waiting on the worker (an endpoint test) fetches itself again until
// the server renders it final, and swaps its [data-poll-part] elements' contents in place. The
// result panel is an aria-live region, so the answer is announced when it arrives. Without this
// file the page's "Check again" link does the same by hand.
(function () {
  "use strict";

  var waiting = document.querySelector("[data-poll]");
  if (!waiting || !window.fetch || !window.DOMParser) { return; }
  var url = waiting.getAttribute("data-poll");
  var delay = 500;
  var giveUpAt = Date.now() + 5 * 60 * 1000;

  function swap(fresh) {
    document.querySelectorAll("[data-poll-part]").forEach(function (part) {
      var next = fresh.getElementById(part.id);
      if (next) { part.replaceChildren.apply(part, Array.from(next.childNodes)); }
    });
  }

  function schedule() {
    if (Date.now() > giveUpAt) { return; }
    window.setTimeout(poll, delay);
    delay = Math.min(delay * 1.5, 5000);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        swap(fresh);
        if (fresh.querySelector("[data-poll]")) {
          schedule();
        } else {
          waiting.removeAttribute("data-poll");
        }
      })
      .catch(schedule);
  }

  schedule();
})();
