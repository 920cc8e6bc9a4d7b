/* BankWatch capture page: a paired browser's webcam as a camera.
 *
 * getUserMedia gives the video; every 1/fps seconds the current picture is drawn on a canvas,
 * encoded as JPEG and POSTed to the frame API (POST /api/v1/frames) with the device cookie
 * (sent by the browser, HttpOnly), the camera's id and the CSRF token. At most one upload is
 * in flight: when the network or the server is slow, pictures are skipped, never queued.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("capture-config").textContent);
  var video = document.getElementById("capture-video");
  var canvas = document.getElementById("capture-canvas");
  var status = document.getElementById("capture-status");
  var state = { sent: 0, failed: 0, skipped: 0, busy: false, stopped: false };
  window.bankwatchCapture = state; // read by the browser tests

  function show(text) { status.textContent = text; }
  function counts() {
    status.dataset.sent = state.sent;
    status.dataset.failed = state.failed;
    show(config.labels.sending.replace("%(sent)s", state.sent).replace("%(failed)s", state.failed));
  }

  function send() {
    if (state.stopped || !video.videoWidth) { return; }
    if (state.busy) { state.skipped += 1; return; }
    state.busy = true;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      var body = new FormData();
      body.append("image", blob, "frame.jpg");
      body.append("captured_at", new Date().toISOString());
      fetch(config.frameUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-BankWatch-Camera": String(config.cameraId), "X-CSRFToken": config.csrfToken }
      }).then(function (response) {
        if (response.status === 401 || response.status === 403) {
          state.stopped = true;
          show(config.labels.unpaired);
          return;
        }
        if (response.ok) { state.sent += 1; } else { state.failed += 1; }
        counts();
      }).catch(function () { state.failed += 1; counts(); })
        .finally(function () { state.busy = false; });
    }, "image/jpeg", 0.85);
  }

  show(config.labels.starting);
  navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
    .then(function (stream) {
      video.srcObject = stream;
      setInterval(send, 1000 / config.fps);
    })
    .catch(function () { show(config.labels.denied); });
})();
