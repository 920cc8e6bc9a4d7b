/* BankWatch dashboard: camera health. The status panel lists every camera of the user's scope with
 * its state; the tamper card lists those offline, obstructed, frozen or turned away.
 *
 * The live feed (dashboard.js) hands every {"type": "camera.updated"} event to update(). A camera
 * entering a tamper state sounds the siren (static/js/sound.js, one sound at a time), shows a
 * browser notification (once sound is turned on) and counts as a camera problem of the shift; a
 * camera back online leaves the tamper card by itself.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("camera-health").textContent);
  var feedConfig = JSON.parse(document.getElementById("feed-config").textContent);
  var labels = config.labels;
  var panel = document.getElementById("camera-alerts");
  var list = document.getElementById("camera-alert-list");
  var statusList = document.getElementById("camera-status-list");
  var statusTemplate = document.getElementById("camera-status-template");
  var summary = document.getElementById("camera-summary");
  var timeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: feedConfig.timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  var shown = {};
  var cameras = {};
  var template = document.getElementById("camera-alert-template");

  function statusName(status) { return labels.statuses[status] || status; }

  function item(camera) {
    var li = template.content.firstElementChild.cloneNode(true);
    li.dataset.cameraId = camera.camera_id;
    li.dataset.status = camera.status;
    li.classList.add(camera.status);
    li.querySelector('[data-field="title"]').textContent = statusName(camera.status) + ": " + camera.name;
    li.querySelector('[data-field="where"]').textContent =
      " · " + camera.branch + (camera.since ? " · " + labels.since + " " + timeFormat.format(new Date(camera.since)) : "");
    var why = li.querySelector('[data-field="error"]');
    if (camera.last_error) { why.textContent = camera.last_error; } else { why.remove(); }
    return li;
  }

  function drawPanel() {
    if (!statusList) { return; }
    statusList.textContent = "";
    var ids = Object.keys(cameras).sort(function (a, b) {
      var x = cameras[a], y = cameras[b];
      // Problems first, then by branch and name.
      if (x.tampered !== y.tampered) { return x.tampered ? -1 : 1; }
      return (x.branch + x.name).localeCompare(y.branch + y.name);
    });
    var online = 0;
    ids.forEach(function (id) {
      var camera = cameras[id];
      var li = statusTemplate.content.firstElementChild.cloneNode(true);
      li.dataset.cameraId = id;
      li.dataset.status = camera.status;
      li.classList.add("health-" + camera.status);
      li.querySelector('[data-field="name"]').textContent = camera.name;
      li.querySelector('[data-field="branch"]').textContent = camera.branch;
      li.querySelector('[data-field="status"]').textContent = statusName(camera.status);
      if (camera.status === "online") { online += 1; }
      statusList.appendChild(li);
    });
    if (summary) { summary.textContent = online + " / " + ids.length + " " + labels.online; }
  }

  function refresh() { panel.hidden = Object.keys(shown).length === 0; }

  function announce(camera) {
    var counter = document.getElementById("count-camera-problems");
    if (counter) { counter.textContent = String(Number(counter.textContent) + 1); }
    if (!window.BankWatchSound.enabled()) { return; }
    window.BankWatchSound.play(config.sound);
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(labels.tamper + ": " + camera.name, { body: statusName(camera.status) + " · " + camera.branch });
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
    cameras[id] = camera;
    drawPanel();
    refresh();
  }

  (config.cameras || []).forEach(function (camera) { cameras[String(camera.camera_id)] = camera; });
  config.tampered.forEach(function (camera) {
    shown[String(camera.camera_id)] = item(camera);
    list.appendChild(shown[String(camera.camera_id)]);
  });
  drawPanel();
  refresh();
  window.bankwatchCameras = { update: update, shown: shown, cameras: cameras };
})();
