/*
 * Small behaviours shared by every page. The CSP allows only scripts from 'self', so templates
 * carry data- attributes and this file does the work. Listeners are delegated from the document,
 * so content swapped in by htmx behaves the same without re-binding.
 *
 *   data-autosubmit          on a select/input: submit its form when the value changes
 *   data-confirm="question"  on a form, a submit button or a link: ask before going on
 *                            (for htmx-driven elements use hx-confirm instead)
 *   data-href="url"          on a table row: a click anywhere in the row opens the url
 *   data-bs-toggle="tooltip" Bootstrap tooltips, initialised here
 *   data-print               on a button: open the print dialog (labels, work orders)
 *   data-copy="#field"       on a button: copy the field's value; data-copied is the thanks
 */
(function () {
  "use strict";

  function submitForm(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-autosubmit]") && field.form) {
      submitForm(field.form);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question =
      (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
      return;
    }
    var link = event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var row = event.target.closest("tr[data-href]");
    // Let real links, buttons and form fields inside the row do their own thing.
    if (row && !event.target.closest("a, button, input, select, textarea, label")) {
      if (event.ctrlKey || event.metaKey) {
        window.open(row.getAttribute("data-href"), "_blank");
      } else {
        window.location.assign(row.getAttribute("data-href"));
      }
    }
  });

  function initTooltips(root) {
    if (!window.bootstrap) {
      return;
    }
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      window.bootstrap.Tooltip.getOrCreateInstance(el);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initTooltips(document);
  });

  document.addEventListener("htmx:load", function (event) {
    initTooltips(event.target);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    field.select();
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || "✓";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
