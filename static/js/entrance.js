/* BankWatch entrance display: the camera's live view with an anonymous box on every face, and a
 * large bilingual prompt while a covered face is in view. The socket sends only the frame, the
 * boxes and covered yes/no; nothing about who anyone is. Frames are drawn, never kept. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("entrance-config").textContent);
  var body = document.getElementById("entrance");
  var canvas = document.getElementById("live");
  var context = canvas.getContext("2d");
  var prompt = document.getElementById("prompt");
  var paused = document.getElementById("paused");
  var soundToggle = document.getElementById("sound-toggle");
  var state = { frames: 0, drawnAt: [], lastAt: 0, lastFrameAt: 0, lastCoveredAt: 0, covered: false, feed: null };
  window.bankwatchEntrance = state; // read by the browser tests
  var soundOn = localStorage.getItem("bankwatch.entrance.sound") === "on";
  var chime = new Audio(config.sound);

  function showSound() { soundToggle.setAttribute("aria-pressed", soundOn ? "true" : "false"); }
  soundToggle.addEventListener("click", function () {
    soundOn = !soundOn;
    localStorage.setItem("bankwatch.entrance.sound", soundOn ? "on" : "off");
    showSound();
  });
  showSound();

  function setCovered(covered) {
    if (covered === state.covered) { return; }
    state.covered = covered;
    prompt.hidden = !covered;
    body.classList.toggle("covered", covered);
    body.classList.toggle("idle", !covered);
    if (covered && soundOn) { chime.currentTime = 0; chime.play().catch(function () {}); }
  }

  function draw(message) {
    var image = new Image();
    image.onload = function () {
      if (message.at < state.lastAt) { return; } // a later frame was drawn already
      state.lastAt = message.at;
      canvas.width = message.width;
      canvas.height = message.height;
      context.drawImage(image, 0, 0);
      context.lineWidth = Math.max(2, message.width / 200);
      context.strokeStyle = message.covered ? "#ff5252" : "#4fc3f7";
      message.boxes.forEach(function (box) {
        context.strokeRect(box[0] * message.width, box[1] * message.height, box[2] * message.width, box[3] * message.height);
      });
      state.frames += 1;
      state.drawnAt.push(Date.now()); // the display's own frame rate, read by the browser tests
      if (state.drawnAt.length > 300) { state.drawnAt.shift(); }
      canvas.dataset.boxes = String(message.boxes.length);
    };
    image.src = "data:image/jpeg;base64," + message.frame;
  }

  function handle(message) {
    if (message.type !== "display.frame") { return; }
    var now = Date.now();
    state.lastFrameAt = now;
    paused.hidden = true;
    if (message.covered) { state.lastCoveredAt = now; setCovered(true); }
    draw(message);
  }

  setInterval(function () {
    var now = Date.now();
    if (state.covered && now - state.lastCoveredAt > config.idleAfterMs) { setCovered(false); }
    if (state.lastFrameAt && now - state.lastFrameAt > config.staleAfterMs) { paused.hidden = false; }
  }, 250);

  // The display's socket carries frames, not feed events: nothing to resume, only to reconnect.
  state.feed = window.BankWatchFeed.open({
    path: config.socket,
    onMessage: handle,
    onStatus: function (status) { body.dataset.socket = status === "down" ? "down" : "up"; }
  });
})();
