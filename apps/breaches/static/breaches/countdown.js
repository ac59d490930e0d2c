// Ticks every countdown badge of the 72-hour clock every 30 seconds. The
// server renders the same text, so the page reads correctly without
// JavaScript. This script only keeps it current while the page stays open.
(function () {
  "use strict";

  function format(badge, seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var hours = Math.floor(minutes / 60);
    var rest = String(minutes % 60).padStart(2, "0");
    var template = badge.dataset.leftTemplate;
    var days = 0;
    if (seconds < 0) {
      template = badge.dataset.overdueTemplate;
      if (hours >= Number(badge.dataset.daysFromHours)) {
        template = badge.dataset.overdueDaysTemplate;
        days = Math.floor(hours / 24);
        hours = hours % 24;
      }
    }
    return template.replace("%(days)s", days).replace("%(hours)s", hours)
      .replace("%(minutes)s", rest);
  }

  function urgency(seconds) {
    if (seconds < 6 * 3600) { return "bad"; }
    if (seconds < 48 * 3600) { return "warn"; }
    return "ok";
  }

  function tick() {
    var badges = document.querySelectorAll(".breach-countdown[data-deadline]");
    var now = Date.now();
    badges.forEach(function (badge) {
      var deadline = Date.parse(badge.dataset.deadline);
      if (isNaN(deadline)) { return; }
      var seconds = Math.floor((deadline - now) / 1000);
      badge.textContent = format(badge, seconds);
      badge.classList.remove("ok", "warn", "bad");
      badge.classList.add(urgency(seconds));
    });
  }

  if (!window.breachCountdownStarted) {
    window.breachCountdownStarted = true;
    tick();
    window.setInterval(tick, 30000);
  }
})();
