/*
 * Import and export job pages (templates/customers/import_job.html, export_job.html): while a
 * worker checks or imports the file, or writes the export, poll the job's status and move the
 * progress bar. When the worker has finished a step, reload: the server then renders the
 * report, the confirm button, the result or the download link.
 *
 *   #import-progress[data-status-url]   the box (#export-progress on the export page); the URL
 *                                       answers JSON (views.import_job_status, export_job_status)
 *   [data-progress-bar]                 a <progress> element (no inline style: the CSP);
 *                                       without a value (nothing done yet) it shows activity
 *   [data-progress-text]                "done / total"
 *   [data-progress-label]               the state, translated by the server
 *   #import-job-state .status-badge     the state badge, likewise (#export-job-state)
 */
(function () {
  "use strict";

  var INTERVAL = 1000;
  var RETRY = 5000;

  var box =
    document.getElementById("import-progress") || document.getElementById("export-progress");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("[data-progress-bar]");
  var text = box.querySelector("[data-progress-text]");
  var label = box.querySelector("[data-progress-label]");
  var badge = document.querySelector(
    "#import-job-state .status-badge, #export-job-state .status-badge"
  );

  function show(status) {
    if (status.total > 0 && status.done > 0) {
      bar.max = status.total;
      bar.value = status.done;
    } else {
      bar.removeAttribute("value");
    }
    bar.textContent = status.percent + "%";
    text.textContent = status.done.toLocaleString() + " / " + status.total.toLocaleString();
    if (status.state !== "checked") {
      // "checked" while running: confirmed, waiting for a worker (the page says so already).
      label.textContent = status.label;
      if (badge) {
        badge.textContent = status.label;
      }
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.running) {
          window.setTimeout(poll, INTERVAL);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        // A restarting server or a dropped connection: try again a little later.
        window.setTimeout(poll, RETRY);
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
