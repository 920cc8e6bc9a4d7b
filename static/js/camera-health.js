/* BankWatch dashboard: camera tamper alerts (offline, obstructed, frozen, moved).
 *
 * The page lists the cameras of the user's scope that are in a tamper state now; the live feed
 * (dashboard.js) hands every {"type": "camera.updated"} event to update(). A camera entering a
 * tamper state sounds the siren and shows a browser notification (once sound is turned on);
 * a camera back online leaves the list by itself.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("camera-health").textContent);
  var labels = config.labels;
  var panel = document.getElementById("camera-alerts");
  var list = document.getElementById("camera-alert-list");
  var soundBase = JSON.parse(document.getElementById("feed-config").textContent).soundBase;
  var timeZone = JSON.parse(document.getElementById("feed-config").textContent).timeZone;
  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "vi", {
    timeZone: timeZone, timeStyle: "medium", hourCycle: "h23"
  });
  var shown = {};

  var template = document.getElementById("camera-alert-template");

  function item(camera) {
    var li = template.content.firstElementChild.cloneNode(true);
    li.dataset.cameraId = camera.camera_id;
    li.dataset.status = camera.status;
    li.classList.add(camera.status);
    li.querySelector('[data-field="title"]').textContent = (labels.statuses[camera.status] || camera.status) + ": " + camera.name;
    li.querySelector('[data-field="where"]').textContent =
      " · " + camera.branch + (camera.since ? " · " + labels.since + " " + timeFormat.format(new Date(camera.since)) : "");
    var why = li.querySelector('[data-field="error"]');
    if (camera.last_error) { why.textContent = camera.last_error; } else { why.remove(); }
    return li;
  }

  function refresh() { panel.hidden = Object.keys(shown).length === 0; }

  function announce(camera) {
    if (localStorage.getItem("bankwatch.alerting") !== "on") { return; }
    new Audio(soundBase + config.sound + ".wav").play().catch(function () { /* needs a click first */ });
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(labels.tamper + ": " + camera.name, { body: labels.statuses[camera.status] + " · " + camera.branch });
    }
  }

  function update(camera) {
    var id = String(camera.camera_id);
    var old = shown[id];
    if (old) { old.remove(); delete shown[id]; }
    if (camera.tampered) {
      shown[id] = item(camera);
      list.insertBefore(shown[id], list.firstChild);
      if (!old || old.dataset.status !== camera.status) { announce(camera); }
    }
    refresh();
  }

  config.tampered.forEach(function (camera) {
    shown[String(camera.camera_id)] = item(camera);
    list.appendChild(shown[String(camera.camera_id)]);
  });
  refresh();
  window.bankwatchCameras = { update: update, shown: shown };
})();
