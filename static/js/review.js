/* Keyboard shortcuts on the review page: each button carries its key in data-key.
 * Dismiss buttons carry their reason in data-reason, copied into the form before it goes. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-reason]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.form.querySelector('input[name="reason"]').value = button.dataset.reason;
    });
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT")) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "n") {
      var note = document.getElementById("note");
      if (note) { event.preventDefault(); note.focus(); }
      return;
    }
    var button = document.querySelector('button[data-key="' + key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
  // A second press while the first is on its way would send a stale version: disable on submit.
  document.querySelectorAll("form.actions").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () { form.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });

  // Listen to the feed: when someone else moves this alert, say so before a stale decision is sent.
  var config = JSON.parse(document.getElementById("review-config").textContent);
  if (!config.hasFeed) { return; }
  var banner = document.getElementById("changed-meanwhile");
  window.bankwatchFeed = window.BankWatchFeed.open({
    path: "/ws/alerts/",
    lastEventId: config.lastEventId,
    onMessage: function (message) {
      if (!message.alert || message.alert.id !== config.alertId || message.alert.version <= config.version) { return; }
      var status = config.statuses[message.alert.status] || message.alert.status;
      banner.querySelector("span").textContent = config.changed.replace("%(status)s", status);
      banner.hidden = false;
    }
  });
})();
