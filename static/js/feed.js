/* BankWatch live feed client: the one WebSocket client of every live page (dashboard, review,
 * entrance display).
 *
 * BankWatchFeed.open({path, lastEventId, onMessage, onStatus}) connects to `path` and:
 * - resumes: every (re)connect asks for the events after the last id seen (?last_event_id=),
 *   so a dropped connection loses nothing;
 * - de-duplicates: a message with an event_id already handled is dropped;
 * - backs off: reconnects after 0.5 s, 1 s, ... up to 3 s; an attempt that has neither opened nor
 *   closed after 5 s is given up and retried (Chromium never closes a socket its policy blocked);
 * - notices the end of the session: a socket refused at the handshake makes it look at the page
 *   once more, and a redirect (to the sign-in page) reloads instead of retrying forever.
 * onStatus gets "catching" (open, replaying), "up" (replay.done or the first message without
 * replay) and "down". The returned state is what the browser tests read.
 */
(function () {
  "use strict";
  var CONNECT_TIMEOUT_MS = 5000;

  function open(options) {
    var state = { lastEventId: options.lastEventId || 0, seen: {}, socket: null, retry: 0, events: 0 };
    var resume = options.lastEventId !== undefined && options.lastEventId !== null;
    var onStatus = options.onStatus || function () {};
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";

    function url() {
      var base = scheme + window.location.host + options.path;
      return resume ? base + (base.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + state.lastEventId : base;
    }

    function receive(message) {
      if (message.event_id) {
        if (state.seen[message.event_id]) { return; }
        state.seen[message.event_id] = true;
        state.lastEventId = Math.max(state.lastEventId, message.event_id);
      }
      if (message.type === "replay.done") { onStatus("up"); return; }
      state.events += 1;
      options.onMessage(message);
    }

    function connect() {
      var socket, opened = false, over = false;
      try {
        socket = new WebSocket(url());
      } catch (error) {  // refused before it started (a policy, a bad address): try again later
        closed(false);
        return;
      }
      state.socket = socket;
      // A connection attempt that neither opens nor closes (a blocked or silent address) is given up.
      var watchdog = setTimeout(function () {
        if (!opened && !over) { socket.onclose = null; socket.close(); finish(); }
      }, CONNECT_TIMEOUT_MS);
      function finish() {
        if (over) { return; }
        over = true;
        clearTimeout(watchdog);
        closed(opened);
      }
      socket.onopen = function () {
        opened = true;
        state.retry = 0;
        onStatus(resume ? "catching" : "up");
      };
      socket.onmessage = function (event) { receive(JSON.parse(event.data)); };
      socket.onclose = finish;
    }

    function closed(opened) {
      onStatus("down");
      if (!opened) {
        // Refused at the handshake: if the session has ended, go to the sign-in page instead of retrying forever.
        fetch(window.location.pathname, { redirect: "manual", credentials: "same-origin" }).then(function (response) {
          if (response.type === "opaqueredirect") { window.location.reload(); }
        }).catch(function () {});
      }
      state.retry = Math.min(state.retry + 1, 6);
      setTimeout(connect, 500 * state.retry);
    }

    connect();
    return state;
  }

  window.BankWatchFeed = { open: open };
})();
