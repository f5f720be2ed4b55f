// The check-in screen's QR scanner. It reads codes with the browser's own
// BarcodeDetector where there is one, else with jsQR (vendored) from video frames
// drawn on a canvas. The code field and the name search work without either.
(function () {
  "use strict";
  var button = document.getElementById("scan");
  var media = navigator.mediaDevices;
  if (!button || !media || !media.getUserMedia) {
    return;
  }
  var detector = "BarcodeDetector" in window
    ? new window.BarcodeDetector({ formats: ["qr_code"] })
    : null;
  if (!detector && typeof window.jsQR !== "function") {
    return;
  }
  var form = button.form;
  var input = document.getElementById("code");
  var video = document.getElementById("scanner");
  var status = document.getElementById("scan-status");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  button.hidden = false;

  function say(text) {
    if (status) {
      status.textContent = text || "";
    }
  }

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.hidden = true;
    button.textContent = button.dataset.start;
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  async function read() {
    if (detector) {
      var codes = await detector.detect(video).catch(function () { return []; });
      return codes.length ? codes[0].rawValue : null;
    }
    if (!video.videoWidth) {
      return null;
    }
    // A frame at most 640 pixels wide is plenty for a code held up to the camera.
    var scale = Math.min(1, 640 / video.videoWidth);
    var width = Math.round(video.videoWidth * scale);
    var height = Math.round(video.videoHeight * scale);
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    var frame = context.getImageData(0, 0, width, height);
    var code = window.jsQR(frame.data, width, height, { inversionAttempts: "dontInvert" });
    return code ? code.data : null;
  }

  button.addEventListener("click", async function () {
    if (stream) {
      stop();
      say("");
      return;
    }
    try {
      stream = await media.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      say(button.dataset.denied);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    button.textContent = button.dataset.stop;
    say(button.dataset.aim);
    await video.play();
    while (stream) {
      var value = await read();
      if (value) {
        input.value = value;
        stop();
        say("");
        form.requestSubmit();
        return;
      }
      await wait(200);
    }
  });
})();
