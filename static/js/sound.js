/* BankWatch sound: the one player of the dashboard. One sound at a time, never two at once.
 *
 * BankWatchSound.play(name) plays static/sounds/<name>.wav unless sound is off (the "Turn on
 * sound" button), muted (BankWatchSound.muteUntil, shared by every tab through localStorage), or
 * another sound is still playing: then it plays nothing and says so (false). A sound counts as
 * playing until it ends, or for at most MAX_MS when the browser never says it ended.
 * BankWatchSound.plays lists what was played (the browser tests read it).
 */
(function () {
  "use strict";
  var MAX_MS = 4000;
  var base = "/static/sounds/";
  var busyUntil = 0;
  var state = { plays: [], skipped: 0 };

  function enabled() { return localStorage.getItem("bankwatch.alerting") === "on"; }
  function mutedUntil() { return Number(localStorage.getItem("bankwatch.mutedUntil") || 0); }
  function muted() { return Date.now() < mutedUntil(); }

  function play(name) {
    if (!name || !enabled() || muted()) { return false; }
    var now = Date.now();
    if (now < busyUntil) { state.skipped += 1; return false; }
    busyUntil = now + MAX_MS;
    var audio = new Audio(base + name + ".wav");
    function release() { if (busyUntil > Date.now()) { busyUntil = 0; } }
    audio.onended = release;
    audio.onerror = release;
    state.plays.push({ name: name, at: now });
    var started = audio.play();
    if (started && started.catch) { started.catch(function () { busyUntil = 0; /* the browser wants a click first */ }); }
    return true;
  }

  window.BankWatchSound = {
    configure: function (soundBase) { base = soundBase || base; },
    play: play,
    enabled: enabled,
    muted: muted,
    mutedUntil: mutedUntil,
    muteUntil: function (at) { localStorage.setItem("bankwatch.mutedUntil", String(at)); },
    state: state
  };
})();
