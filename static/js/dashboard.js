/* BankWatch live dashboard: the control-room console of open alerts, kept current over the live feed.
 *
 * The page renders the queue as it was at load, with the id of the last feed event it reflects;
 * static/js/feed.js resumes from that id on every (re)connect, applies each event once and backs
 * off. Each alert is a card cloned from the page's <template> elements: the camera's best face
 * beside the subject's reference photo, in the watchlist's colour, with the subject's caution flags
 * and the match strength in words (the numbers on hover). Order: waiting alerts first, then the
 * watchlist's priority, then the newest. Sounds go through static/js/sound.js, one at a time:
 * the oldest alert still waiting for acknowledgement sounds again every REPEAT_MS until someone
 * takes it into review. When the feed is down a full-width banner and a beep say so until it is back.
 */
(function () {
  "use strict";
  var REPEAT_MS = 10000;      // the unacknowledged alert's siren, again
  var DOWN_GRACE_MS = 2000;   // a reconnect faster than this is not worth a banner
  var DOWN_BEEP_MS = 15000;   // the feed-down beep, again
  var config = JSON.parse(document.getElementById("feed-config").textContent);
  var labels = config.labels;
  var list = document.getElementById("alert-list");
  var empty = document.getElementById("queue-empty");
  var statusBox = document.getElementById("feed-status");
  var enableButton = document.getElementById("enable-alerts");
  var downBanner = document.getElementById("feed-down");
  var waiting = document.getElementById("waiting");
  var cardTemplate = document.getElementById("alert-card-template");
  var coveredTemplate = document.getElementById("covered-card-template");
  var sound = window.BankWatchSound;
  sound.configure(config.soundBase);

  var lang = document.documentElement.lang || "vi";
  // One format everywhere: day before month, 24-hour, at the branch's time whatever the PC says.
  var timeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: config.timeZone, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  function when(iso) { return timeFormat.format(new Date(iso)).replace(",", ""); }
  var scoreFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  function score(value) { return scoreFormat.format(value); }

  function clone(template) { return template.content.firstElementChild.cloneNode(true); }
  function field(card, name) { return card.querySelector('[data-field="' + name + '"]'); }
  function fill(card, name, value) { field(card, name).textContent = value; }
  function image(img, src, alt) {
    if (src) { img.src = src; img.alt = alt; } else { img.replaceWith(noImage()); }
  }
  function noImage() {
    var div = document.createElement("div");
    div.className = "noimg";
    div.textContent = labels.noImage;
    return div;
  }

  var STATUS_RANK = { new: 0, escalated: 0, in_review: 1, case_opened: 1, confirmed: 2 };
  function priorityOf(alert) { return alert.kind === "covered" ? 2 : (alert.watchlist.priority || 2); }

  function common(card, alert) {
    card.dataset.alertId = alert.id;
    card.dataset.createdAt = alert.created_at;
    card.dataset.rank = STATUS_RANK[alert.status] === undefined ? 3 : STATUS_RANK[alert.status];
    card.dataset.priority = priorityOf(alert);
    card.dataset.status = alert.status;
    card.classList.add("status-" + alert.status);
    fill(card, "raised", when(alert.created_at));
    field(card, "raised").dateTime = alert.created_at;
    fill(card, "where", alert.branch.name + " / " + alert.camera.name);
    fill(card, "sightings", alert.sightings + " " + labels.sightings);
    fill(card, "status", labels.statuses[alert.status] || alert.status);
    card.addEventListener("click", function (event) {
      if (event.target.tagName !== "A") { window.location.href = alert.url; }
    });
    return card;
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

  // A covered-face event names no one: its card shows the frame (every other face pixelated) and
  // what covered the face, in its own colour; its sound is its own too.
  function coveredCard(alert) {
    var card = common(clone(coveredTemplate), alert);
    fill(card, "kind", labels.covered);
    image(field(card, "thumb"), alert.images.frame, labels.coveredAtDoor);
    var link = field(card, "link");
    link.textContent = labels.covered;
    link.href = alert.url;
    var labelBox = field(card, "labels");
    (alert.covering ? alert.covering.labels : []).forEach(function (label) {
      var span = document.createElement("span");
      span.className = "label label-" + label;
      span.textContent = labels.coveringNames[label] || label;
      labelBox.appendChild(document.createTextNode(" "));
      labelBox.appendChild(span);
    });
    fill(card, "identity", labels.noIdentity);
    fill(card, "covering", coveringText(alert));
    return card;
  }

  function matchCard(alert) {
    var card = common(clone(cardTemplate), alert);
    card.style.setProperty("--watchlist-colour", alert.watchlist.colour);
    fill(card, "watchlist", alert.watchlist.name);
    image(field(card, "probe"), alert.images.best || alert.images.probe, labels.seenByCamera);
    fill(card, "probe-caption", labels.seenByCamera);
    image(field(card, "reference"), alert.images.reference, labels.referencePhoto);
    fill(card, "reference-caption", labels.referencePhoto);
    var link = field(card, "link");
    link.textContent = alert.subject.name;
    link.href = alert.url;
    var caution = alert.subject.caution || [];
    if (caution.length) {
      var box = field(card, "caution");
      box.textContent = "⚠ " + caution.map(function (flag) { return labels.caution[flag.code] || flag.name; }).join(" · ");
      box.hidden = false;
      card.classList.add("has-caution");
    }
    var strength = field(card, "strength");
    strength.textContent = labels.strength[alert.strength] || "";
    strength.classList.add("strength-" + alert.strength);
    strength.title = labels.scoreTitle.replace("%(score)s", score(alert.score))
      .replace("%(threshold)s", score(alert.threshold)).replace("%(margin)s", score(alert.score - alert.threshold));
    return card;
  }

  function card(alert) { return alert.kind === "covered" ? coveredCard(alert) : matchCard(alert); }

  function before(a, b) {
    // Waiting first, then the watchlist's priority (1 high), then the newest.
    if (a.dataset.rank !== b.dataset.rank) { return Number(a.dataset.rank) < Number(b.dataset.rank); }
    if (a.dataset.priority !== b.dataset.priority) { return Number(a.dataset.priority) < Number(b.dataset.priority); }
    if (a.dataset.createdAt !== b.dataset.createdAt) { return a.dataset.createdAt > b.dataset.createdAt; }
    return Number(a.dataset.alertId) > Number(b.dataset.alertId);
  }

  function place(node) {
    var cards = list.children;
    for (var i = 0; i < cards.length; i++) {
      if (before(node, cards[i])) { list.insertBefore(node, cards[i]); return; }
    }
    list.appendChild(node);
  }

  var baseTitle = document.title;
  function refreshCounts() {
    if (empty) { empty.hidden = list.children.length > 0; }
    var count = list.querySelectorAll('.alert-card[data-rank="0"]').length;
    if (waiting) {
      waiting.querySelector('[data-field="count"]').textContent = String(count);
      waiting.classList.toggle("some", count > 0);
    }
    // A tab left open all day shows how many alerts wait, even when it is not in front.
    document.title = (count ? "(" + count + ") " : "") + baseTitle;
  }

  function upsert(alert) {
    remember(alert);
    var existing = list.querySelector('.alert-card[data-alert-id="' + alert.id + '"]');
    if (existing) { existing.remove(); }
    if (!matchesFilters(alert)) { refreshCounts(); return false; }
    place(card(alert));
    refreshCounts();
    return !existing;
  }

  var remembered = {};
  function remember(alert) { remembered[alert.id] = alert; }

  function bump(id) {
    var counter = document.getElementById(id);
    if (counter) { counter.textContent = String(Number(counter.textContent) + 1); }
  }

  function soundOf(alert) {
    if (alert.kind === "covered") { return config.coveredSound; }
    return alert.watchlist.sound && alert.watchlist.sound !== "none" ? alert.watchlist.sound : null;
  }

  function mustAcknowledge(alert) {
    return alert.kind === "covered" || alert.watchlist.requires_acknowledgement;
  }

  function announce(alert) {
    var node = list.querySelector('.alert-card[data-alert-id="' + alert.id + '"]');
    if (node) {
      node.classList.add("fresh");
      setTimeout(function () { node.classList.remove("fresh"); }, 8000);
    }
    if (!sound.enabled()) { return; }
    sound.play(soundOf(alert));
    if ("Notification" in window && Notification.permission === "granted") {
      var covered = alert.kind === "covered";
      var title = covered ? labels.coveredAtDoor + ": " + coveringText(alert) : labels.newAlert + ": " + alert.subject.name;
      var body = covered ? alert.branch.name + " · " + alert.camera.name
        : alert.watchlist.name + " · " + alert.branch.name + " · " + (labels.strength[alert.strength] || "");
      var note = new Notification(title, { body: body, tag: "bankwatch-alert-" + alert.id });
      note.onclick = function () { window.focus(); window.location.href = alert.url; };
    }
  }

  // Alerts of watchlists that require acknowledgement sound again while still new; only the
  // oldest of them, so that four waiting alerts are one siren, not four.
  var pending = {};
  function remindUnacknowledged() {
    var oldest = null;
    Object.keys(pending).forEach(function (id) {
      var alert = pending[id];
      if (alert.status !== "new" || !list.querySelector('.alert-card[data-alert-id="' + id + '"]')) { delete pending[id]; return; }
      if (!oldest || alert.created_at < oldest.created_at) { oldest = alert; }
    });
    if (oldest) { sound.play(soundOf(oldest)); }
  }
  setInterval(remindUnacknowledged, REPEAT_MS);

  function track(alert) {
    if (mustAcknowledge(alert) && alert.status === "new") { pending[alert.id] = alert; } else { delete pending[alert.id]; }
  }

  function handle(message) {
    if (message.type === "camera.updated") {  // camera health (static/js/camera-health.js)
      if (window.bankwatchCameras) { window.bankwatchCameras.update(message.camera); }
      return;
    }
    var again = message.type === "alert.unacknowledged";  // nobody took it into review in time
    if (message.type !== "alert.created" && message.type !== "alert.updated" && !again) { return; }
    var added = upsert(message.alert);
    track(message.alert);
    if (message.type === "alert.created") { bump(message.alert.kind === "covered" ? "count-covered" : "count-alerts"); }
    if (message.type === "alert.created" || added || again) { announce(message.alert); }
  }

  // The feed-down banner: after DOWN_GRACE_MS without the feed, until it is back; a beep with it.
  var downTimer = null, downBeep = null;
  function feedDown() {
    if (!downBanner || downTimer) { return; }
    downTimer = setTimeout(function () {
      downBanner.hidden = false;
      document.body.classList.add("feed-is-down");
      sound.play("beep");
      downBeep = setInterval(function () { sound.play("beep"); }, DOWN_BEEP_MS);
    }, DOWN_GRACE_MS);
  }
  function feedBack() {
    clearTimeout(downTimer); clearInterval(downBeep);
    downTimer = downBeep = null;
    if (downBanner) { downBanner.hidden = true; }
    document.body.classList.remove("feed-is-down");
  }

  function setStatus(kind) {
    if (!statusBox) { return; }
    statusBox.className = "status " + (kind === "up" ? "up" : "down");
    statusBox.textContent = kind === "up" ? labels.up : kind === "catching" ? labels.catchingUp : labels.down;
    statusBox.dataset.state = kind;
    if (kind === "down") { feedDown(); } else { feedBack(); }
  }

  JSON.parse(document.getElementById("initial-queue").textContent).forEach(function (alert) {
    upsert(alert);
    track(alert);
  });
  refreshCounts();

  if (enableButton) {
    if (sound.enabled()) { enableButton.textContent = labels.on; }
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

  // Mute for a set time: asked of the server (which audits it), then kept for every tab.
  var muteForm = document.getElementById("mute-form");
  var mutedBox = document.getElementById("muted");
  function showMute() {
    if (!mutedBox) { return; }
    var until = sound.mutedUntil();
    var on = Date.now() < until;
    mutedBox.hidden = !on;
    muteForm.querySelector("input[name=minutes]").value = on ? "0" : "5";
    muteForm.querySelector("button").textContent = on ? labels.unmute : labels.mute;
    if (on) { mutedBox.textContent = labels.mutedUntil.replace("%(time)s", when(new Date(until).toISOString()).slice(11, 16)); }
  }
  if (muteForm) {
    muteForm.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(muteForm.action, {
        method: "POST", body: new FormData(muteForm), credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) { return response.json(); }).then(function (answer) {
        sound.muteUntil(answer.muted_until ? Date.parse(answer.muted_until) : 0);
        showMute();
      });
    });
    showMute();
    setInterval(showMute, 5000);
  }

  // window.bankwatchConsole: the message handler and the alerts shown, for the browser tests.
  window.bankwatchConsole = {
    handle: handle,
    alert: function (id) { return remembered[id]; },
    pending: pending
  };
  // window.bankwatchFeed: read by the browser tests and handy in the console.
  window.bankwatchFeed = config.hasFeed && statusBox
    ? window.BankWatchFeed.open({
      path: statusBox.dataset.ws, lastEventId: config.lastEventId, onMessage: handle, onStatus: setStatus
    })
    : { lastEventId: config.lastEventId, events: 0 };
})();
