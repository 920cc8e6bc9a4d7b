/* BankWatch live dashboard: the queue of open alerts, kept current over the live feed.
 *
 * The page renders the queue as it was at load, with the id of the last feed event it
 * reflects; static/js/feed.js resumes from that id on every (re)connect, applies each event
 * once and backs off. Rows are cloned from the page's <template> elements.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("feed-config").textContent);
  var labels = config.labels;
  var list = document.getElementById("alert-list");
  var empty = document.getElementById("queue-empty");
  var statusBox = document.getElementById("feed-status");
  var enableButton = document.getElementById("enable-alerts");
  var alertRow = document.getElementById("alert-row-template");
  var coveredRowTemplate = document.getElementById("covered-row-template");

  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "vi", {
    timeZone: config.timeZone, dateStyle: "short", timeStyle: "medium", hourCycle: "h23"
  });

  var scoreFormat = new Intl.NumberFormat(document.documentElement.lang || "vi", {
    minimumFractionDigits: 3, maximumFractionDigits: 3
  });
  function score(value) { return scoreFormat.format(value); }

  function clone(template) { return template.content.firstElementChild.cloneNode(true); }
  function field(tr, name) { return tr.querySelector('[data-field="' + name + '"]'); }
  function fill(tr, name, value) { field(tr, name).textContent = value; }

  function common(tr, alert) {
    tr.dataset.alertId = alert.id;
    tr.dataset.createdAt = alert.created_at;
    tr.classList.add("status-" + alert.status);
    fill(tr, "raised", timeFormat.format(new Date(alert.created_at)));
    fill(tr, "where", alert.branch.name + " / " + alert.camera.name);
    fill(tr, "sightings", String(alert.sightings));
    fill(tr, "status", labels.statuses[alert.status] || alert.status);
    tr.addEventListener("click", function (event) {
      if (event.target.tagName !== "A") { window.location.href = alert.url; }
    });
    return tr;
  }

  function matchesFilters(alert) {
    if (config.openStatuses.indexOf(alert.status) < 0) { return false; }
    if (config.branch && String(alert.branch.id) !== config.branch) { return false; }
    if (config.watchlist && (!alert.watchlist || String(alert.watchlist.id) !== config.watchlist)) { return false; }
    return true;
  }

  function coveringText(alert) {
    var covering = alert.covering || { labels: [], scores: {} };
    return covering.labels.map(function (label) {
      var name = labels.coveringNames[label] || label;
      var confidence = covering.scores[label];
      return confidence === undefined ? name : name + " " + confidence.toFixed(2);
    }).join(", ");
  }

  // A covered-face event names no one: its row shows the frame (every other face pixelated) and
  // what covered the face, in its own colour; its sound is its own too.
  function coveredRow(alert) {
    var tr = common(clone(coveredRowTemplate), alert);
    field(tr, "swatch").title = labels.covered;
    var thumb = field(tr, "thumb");
    if (alert.images.frame) {
      thumb.src = alert.images.frame;
      thumb.alt = labels.coveredAtDoor;
    } else {
      thumb.remove();
    }
    var link = field(tr, "link");
    link.textContent = labels.covered;
    link.href = alert.url;
    var labelBox = field(tr, "labels");
    if (alert.covering) {
      alert.covering.labels.forEach(function (label) {
        var span = document.createElement("span");
        span.className = "label label-" + label;
        span.textContent = labels.coveringNames[label] || label;
        labelBox.appendChild(document.createTextNode(" "));
        labelBox.appendChild(span);
      });
    }
    fill(tr, "identity", labels.noIdentity);
    fill(tr, "covering", coveringText(alert));
    return tr;
  }

  function soundOf(alert) {
    if (alert.kind === "covered") { return config.coveredSound; }
    return alert.watchlist.sound && alert.watchlist.sound !== "none" ? alert.watchlist.sound : null;
  }

  function mustAcknowledge(alert) {
    return alert.kind === "covered" || alert.watchlist.requires_acknowledgement;
  }

  function row(alert) {
    if (alert.kind === "covered") { return coveredRow(alert); }
    var tr = common(clone(alertRow), alert);
    tr.style.setProperty("--watchlist-colour", alert.watchlist.colour);
    field(tr, "swatch").title = alert.watchlist.name;
    var link = field(tr, "link");
    link.textContent = alert.subject.name;
    link.href = alert.url;
    fill(tr, "watchlist", alert.watchlist.name);
    fill(tr, "score", score(alert.score) + " / " + score(alert.threshold));
    return tr;
  }

  function place(tr) {
    // Oldest first: the alert that has waited longest is on top.
    var rows = list.children;
    for (var i = 0; i < rows.length; i++) {
      var other = rows[i];
      if (other.dataset.createdAt > tr.dataset.createdAt ||
          (other.dataset.createdAt === tr.dataset.createdAt && Number(other.dataset.alertId) > Number(tr.dataset.alertId))) {
        list.insertBefore(tr, other);
        return;
      }
    }
    list.appendChild(tr);
  }

  var baseTitle = document.title;
  function refreshEmpty() {
    if (empty) { empty.hidden = list.children.length > 0; }
    // A tab left open all day shows how many alerts wait, even when it is not in front.
    document.title = (list.children.length ? "(" + list.children.length + ") " : "") + baseTitle;
  }

  function upsert(alert) {
    var existing = list.querySelector('tr[data-alert-id="' + alert.id + '"]');
    if (!matchesFilters(alert)) {
      if (existing) { existing.remove(); }
      refreshEmpty();
      return false;
    }
    var tr = row(alert);
    if (existing) { existing.replaceWith(tr); } else { place(tr); }
    refreshEmpty();
    return !existing;
  }

  function announce(alert) {
    var tr = list.querySelector('tr[data-alert-id="' + alert.id + '"]');
    if (tr) {
      tr.classList.add("fresh");
      setTimeout(function () { tr.classList.remove("fresh"); }, 8000);
    }
    if (localStorage.getItem("bankwatch.alerting") !== "on") { return; }
    var sound = soundOf(alert);
    if (sound) {
      var audio = new Audio(config.soundBase + sound + ".wav");
      audio.play().catch(function () { /* the browser wants a click first */ });
    }
    if ("Notification" in window && Notification.permission === "granted") {
      var covered = alert.kind === "covered";
      var title = covered ? labels.coveredAtDoor + ": " + coveringText(alert) : labels.newAlert + ": " + alert.subject.name;
      var body = covered ? alert.branch.name + " · " + alert.camera.name
        : alert.watchlist.name + " · " + alert.branch.name + " · " + score(alert.score);
      var note = new Notification(title, { body: body, tag: "bankwatch-alert-" + alert.id });
      note.onclick = function () { window.focus(); window.location.href = alert.url; };
    }
  }

  // Watchlists that require acknowledgement keep sounding while one of their alerts is still new
  // (starting the review acknowledges it).
  var pending = {};
  function remindUnacknowledged() {
    if (localStorage.getItem("bankwatch.alerting") !== "on") { return; }
    Object.keys(pending).forEach(function (id) {
      var alert = pending[id];
      if (alert.status !== "new" || !list.querySelector('tr[data-alert-id="' + id + '"]')) { delete pending[id]; return; }
      var sound = soundOf(alert);
      if (sound) { new Audio(config.soundBase + sound + ".wav").play().catch(function () {}); }
    });
  }
  setInterval(remindUnacknowledged, 20000);

  function handle(message) {
    if (message.type === "camera.updated") {  // camera health (static/js/camera-health.js)
      if (window.bankwatchCameras) { window.bankwatchCameras.update(message.camera); }
      return;
    }
    var again = message.type === "alert.unacknowledged";  // nobody took it into review in time
    if (message.type !== "alert.created" && message.type !== "alert.updated" && !again) { return; }
    var added = upsert(message.alert);
    if (mustAcknowledge(message.alert) && message.alert.status === "new") {
      pending[message.alert.id] = message.alert;
    } else {
      delete pending[message.alert.id];
    }
    if (message.type === "alert.created" || added || again) { announce(message.alert); }
  }

  function setStatus(kind) {
    if (!statusBox) { return; }
    statusBox.className = "status " + (kind === "up" ? "up" : "down");
    statusBox.textContent = kind === "up" ? labels.up : kind === "catching" ? labels.catchingUp : labels.down;
    statusBox.dataset.state = kind;
  }

  JSON.parse(document.getElementById("initial-queue").textContent).forEach(function (alert) {
    upsert(alert);
    if (mustAcknowledge(alert) && alert.status === "new") { pending[alert.id] = alert; }
  });
  refreshEmpty();

  if (enableButton) {
    if (localStorage.getItem("bankwatch.alerting") === "on") { enableButton.textContent = labels.on; }
    enableButton.addEventListener("click", function () {
      localStorage.setItem("bankwatch.alerting", "on");
      enableButton.textContent = labels.on;
      if ("Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().then(function (answer) {
          if (answer === "denied") { enableButton.textContent = labels.noPermission; }
        });
      }
    });
  }
  // window.bankwatchFeed: read by the browser tests and handy in the console.
  window.bankwatchFeed = config.hasFeed && statusBox
    ? window.BankWatchFeed.open({
      path: statusBox.dataset.ws, lastEventId: config.lastEventId, onMessage: handle, onStatus: setStatus
    })
    : { lastEventId: config.lastEventId, events: 0 };
})();
