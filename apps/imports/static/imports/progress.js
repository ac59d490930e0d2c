// Polls the job's progress view and updates the bar; reloads the page when the
// job stops, so the report or the dry-run counts appear.
(function () {
  "use strict";
  var card = document.getElementById("progress-card");
  if (!card || card.hidden) {
    return;
  }
  var url = card.getAttribute("data-progress-url");
  var bar = document.getElementById("job-progress");
  var text = document.getElementById("job-progress-text");
  var rows = document.getElementById("job-rows-read");
  var waiting = document.getElementById("job-waiting");
  var quiet = document.getElementById("job-quiet");
  var quietMinutes = document.getElementById("job-quiet-minutes");
  // A queued job can be cancelled until a worker starts it.
  var cancelQueued = document.getElementById("cancel-queued");

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress request failed: " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + "%";
        text.textContent = data.progress;
        rows.textContent = data.rows_read.toLocaleString(document.documentElement.lang);
        waiting.hidden = data.status !== "queued";
        quiet.hidden = data.quiet_minutes < Number(quiet.getAttribute("data-after"));
        quietMinutes.textContent = data.quiet_minutes;
        if (cancelQueued) {
          // The flex layout of .actions overrides the hidden attribute.
          cancelQueued.style.display = data.status === "queued" ? "" : "none";
        }
        if (data.active) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 500);
})();
