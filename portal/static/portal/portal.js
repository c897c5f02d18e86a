// ClickLedger portal: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function copyText(text, button) {
    function done() {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      document.body.removeChild(area);
      done();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-text], [data-insert-macro]");
    if (!button) { return; }
    if (button.hasAttribute("data-copy")) {
      copyText(document.getElementById(button.getAttribute("data-copy")).value, button);
    } else if (button.hasAttribute("data-copy-text")) {
      copyText(button.getAttribute("data-copy-text"), button);
    } else {
      var input = document.getElementById(button.getAttribute("data-target"));
      var macro = "{" + button.getAttribute("data-insert-macro") + "}";
      var start = input.selectionStart == null ? input.value.length : input.selectionStart;
      var end = input.selectionEnd == null ? input.value.length : input.selectionEnd;
      input.value = input.value.slice(0, start) + macro + input.value.slice(end);
      input.focus();
      input.setSelectionRange(start + macro.length, start + macro.length);
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // The sub id builder updates the link as you type (the Build button does the same server-side).
  document.querySelectorAll("[data-link-builder]").forEach(function (form) {
    var output = document.getElementById(form.getAttribute("data-output"));
    form.addEventListener("input", function () {
      var params = new URLSearchParams();
      form.querySelectorAll("input[type=text]").forEach(function (input) {
        if (input.value) { params.append(input.name, input.value); }
      });
      var query = params.toString();
      output.value = form.getAttribute("data-base") + (query ? "?" + query : "");
    });
  });

  // A "print" button (the printable invoice); inline handlers are refused by the CSP.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();
