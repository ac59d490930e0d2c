// Adds a "Copy" button after each value of the notification draft, so the
// DPO can paste it into the CNIL's online form field by field. Without
// JavaScript the page still shows every value as plain text.
(function () {
  "use strict";

  var container = document.querySelector("[data-copy-label]");
  if (!container || !navigator.clipboard) { return; }
  var label = container.dataset.copyLabel;
  var doneLabel = container.dataset.copiedLabel;

  container.querySelectorAll("dd").forEach(function (value) {
    var text = value.innerText.trim();
    var button = document.createElement("button");
    button.type = "button";
    button.className = "small secondary draft-copy";
    button.textContent = label;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = doneLabel;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
    value.appendChild(document.createTextNode(" "));
    value.appendChild(button);
  });
})();
