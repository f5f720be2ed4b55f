// The check-in screen's QR scanner: shown only where the browser can read QR codes
// itself (BarcodeDetector); the code field and the name search work without it.
(function () {
  "use strict";
  var button = document.getElementById("scan");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) {
    return;
  }
  var form = button.form;
  var input = document.getElementById("code");
  var video = document.getElementById("scanner");
  var stream = null;
  button.hidden = false;

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.hidden = true;
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  button.addEventListener("click", async function () {
    if (stream) {
      stop();
      return;
    }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    while (stream) {
      var codes = await detector.detect(video).catch(function () { return []; });
      if (codes.length) {
        input.value = codes[0].rawValue;
        stop();
        form.requestSubmit();
        return;
      }
      await wait(250);
    }
  });
})();
