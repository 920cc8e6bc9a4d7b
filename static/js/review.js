/* The review page: keyboard shortcuts (each button carries its key in data-key), the guards that
 * keep one key from deciding wrongly, the undo countdown, the face boxes on the sightings' frames,
 * and the feed banner when someone else moves the alert.
 *
 * Guards: "not this person" (1) opens a confirmation (1 again or a click; Esc cancels);
 * "other" (4) needs a note; E on an alert not yet confirmed says so instead of doing nothing. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("review-config").textContent);
  var form = document.getElementById("review-form");
  var note = document.getElementById("note");
  var hint = document.getElementById("key-hint");
  var confirmPanel = document.getElementById("confirm-not-this-person");

  function say(text) {
    if (!hint) { return; }
    hint.textContent = text;
    hint.hidden = false;
  }
  function askNotThisPerson() {
    confirmPanel.hidden = false;
    document.getElementById("confirm-ntp").focus();
  }
  function cancelNotThisPerson() {
    if (confirmPanel) { confirmPanel.hidden = true; }
  }

  document.querySelectorAll("#review-form button[data-reason]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var reason = button.dataset.reason;
      if (reason === "not_this_person" && confirmPanel) {
        event.preventDefault();
        askNotThisPerson();
        return;
      }
      if (reason === "other" && note && !note.value.trim()) {
        event.preventDefault();
        say(config.otherNeedsNote);
        note.focus();
        return;
      }
      button.form.querySelector('input[name="reason"]').value = reason;
    });
  });
  if (confirmPanel) {
    document.getElementById("cancel-ntp").addEventListener("click", cancelNotThisPerson);
    confirmPanel.addEventListener("submit", function () {
      if (note) { confirmPanel.querySelector('input[name="note"]').value = note.value; }
    });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape") { cancelNotThisPerson(); }
    if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT")) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "n") {
      if (note) { event.preventDefault(); note.focus(); }
      return;
    }
    if (key === "1" && confirmPanel && !confirmPanel.hidden) {
      event.preventDefault();
      document.getElementById("confirm-ntp").click();
      return;
    }
    var button = document.querySelector('button[data-key="' + key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    } else if (key === "e" && form && (form.dataset.status === "new" || form.dataset.status === "in_review")) {
      event.preventDefault();
      say(config.confirmFirst);
    }
  });
  // A second press while the first is on its way would send a stale version: disable on submit.
  document.querySelectorAll("form.actions").forEach(function (each) {
    each.addEventListener("submit", function () {
      setTimeout(function () { each.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });

  // Undo: the button counts down the reviewer's minute, then goes.
  var undo = document.getElementById("undo-form");
  if (undo) {
    var left = parseInt(undo.dataset.seconds, 10);
    var label = undo.querySelector("button span");
    var tick = setInterval(function () {
      left -= 1;
      if (left <= 0) { clearInterval(tick); undo.hidden = true; return; }
      label.textContent = config.undoLeft.replace("%(seconds)s", left);
    }, 1000);
  }

  // The matched face's box on each sighting's frame, placed once the frame's real size is known.
  document.querySelectorAll("a.boxed[data-box]").forEach(function (link) {
    var img = link.querySelector("img");
    var box = link.dataset.box.split(",").map(Number);
    var mark = link.querySelector(".facebox");
    function place() {
      if (box.length !== 4 || !img.naturalWidth) { return; }
      mark.style.left = (100 * box[0] / img.naturalWidth) + "%";
      mark.style.top = (100 * box[1] / img.naturalHeight) + "%";
      mark.style.width = (100 * box[2] / img.naturalWidth) + "%";
      mark.style.height = (100 * box[3] / img.naturalHeight) + "%";
      mark.hidden = false;
    }
    if (img.complete) { place(); } else { img.addEventListener("load", place); }
  });

  // Listen to the feed: when someone else moves this alert, say so before a stale decision is sent.
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
