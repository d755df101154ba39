/*
 * The engineer's job page (templates/tickets/mobile/): the customer's signature, "add a part"
 * rows and the phone's position for check-in. The CSP allows only scripts from 'self', so the
 * templates mark the elements with data- attributes and this file does the work.
 *
 *   [data-signature]         a box with a <canvas data-signature-canvas>, a [data-signature-clear]
 *                            button and the hidden input[name=signature]; each finished stroke
 *                            writes the drawing into the input as a PNG data URL
 *   [data-parts]             a formset of part rows; [data-parts-add] copies its
 *                            <template data-parts-empty> row and raises TOTAL_FORMS
 *   form[data-geolocate]     fills [data-geo-lat]/[data-geo-lng] when the browser gives a
 *                            position; check-in never waits for it and works without it
 */
(function () {
  "use strict";

  // --- Signature --------------------------------------------------------------------------------

  function initSignature(box) {
    var canvas = box.querySelector("[data-signature-canvas]");
    var input = box.querySelector("input[name=signature]");
    if (!canvas || !input || !window.SignaturePad) {
      return;
    }
    var pad = new window.SignaturePad(canvas, {
      penColor: "#111827",
      minWidth: 0.8,
      maxWidth: 2.8,
    });

    function restore() {
      // After a form error the page comes back with the signature in the input: show it again.
      if (input.value) {
        pad.fromDataURL(input.value).catch(function () {
          input.value = "";
        });
      }
    }

    // The canvas is drawn at the screen's pixel density; changing its size clears it.
    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var width = canvas.offsetWidth;
      var height = canvas.offsetHeight;
      if (!width || (canvas.width === width * ratio && canvas.height === height * ratio)) {
        return;
      }
      canvas.width = width * ratio;
      canvas.height = height * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      restore();
    }

    pad.addEventListener("endStroke", function () {
      input.value = pad.toDataURL("image/png");
    });
    box.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
      input.value = "";
    });
    window.addEventListener("resize", resize);
    resize();
  }

  // --- Parts rows -------------------------------------------------------------------------------

  function addPartRow(box) {
    var total = box.querySelector("input[name$='-TOTAL_FORMS']");
    var max = box.querySelector("input[name$='-MAX_NUM_FORMS']");
    var template = box.querySelector("template[data-parts-empty]");
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) {
      return;
    }
    box
      .querySelector("[data-parts-rows]")
      .insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    var rows = box.querySelectorAll("[data-parts-rows] .part-row");
    var first = rows[rows.length - 1].querySelector("input");
    if (first) {
      first.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-parts-add]");
    if (add) {
      addPartRow(add.closest("[data-parts]"));
    }
  });

  // --- Position for check-in --------------------------------------------------------------------

  function locate(form) {
    var status = form.querySelector("[data-geo-status]");
    function say(key) {
      if (status && status.getAttribute(key)) {
        status.textContent = status.getAttribute(key);
      }
    }
    if (!navigator.geolocation) {
      say("data-geo-none");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.querySelector("[data-geo-lat]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[data-geo-lng]").value = position.coords.longitude.toFixed(6);
        say("data-geo-ok");
      },
      function () {
        say("data-geo-none");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  function locateAll() {
    document.querySelectorAll("form[data-geolocate]").forEach(locate);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature]").forEach(initSignature);
    locateAll();
  });

  // The page may stay open while the engineer drives there: ask again on coming back to it.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      locateAll();
    }
  });
})();
