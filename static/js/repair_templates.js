/*
 * Repair templates on the engineer's visit record (templates/knowledge/suggest/
 * _repair_templates.html). The CSP allows only scripts from 'self': the templates' data comes
 * from the json_script block #repair-templates-data, [{id, work, parts: [{name, quantity}],
 * hours}].
 *
 *   [data-repair-templates]       the picker, hidden until this script shows it
 *   [data-repair-template-select] choosing a template fills the form's work_done, labour_hours
 *                                 and part rows (empty rows first, then new ones through the
 *                                 parts box's [data-parts-add], see visit.js)
 */
(function () {
  "use strict";

  function readTemplates() {
    var node = document.getElementById("repair-templates-data");
    if (!node) {
      return {};
    }
    var byId = {};
    JSON.parse(node.textContent).forEach(function (t) {
      byId[String(t.id)] = t;
    });
    return byId;
  }

  function setValue(field, value) {
    if (!field) {
      return;
    }
    field.value = value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function emptyRows(box) {
    return Array.prototype.filter.call(
      box.querySelectorAll("[data-parts-rows] .part-row"),
      function (row) {
        var name = row.querySelector("input.part-name, input[name$='-name']");
        return name && !name.value.trim();
      }
    );
  }

  function fillParts(form, parts) {
    var box = form.querySelector("[data-parts]");
    if (!box || !parts.length) {
      return;
    }
    var add = box.querySelector("[data-parts-add]");
    parts.forEach(function (part) {
      var free = emptyRows(box);
      if (!free.length && add) {
        add.click();
        free = emptyRows(box);
      }
      if (!free.length) {
        return; // the formset is full
      }
      setValue(free[0].querySelector("input[name$='-name']"), part.name);
      setValue(free[0].querySelector("input[name$='-quantity']"), part.quantity);
    });
  }

  function apply(form, template) {
    var work = form.querySelector("textarea[name=work_done]");
    if (work) {
      // Keep what the engineer already wrote: the template's steps go after it.
      var written = work.value.trim();
      setValue(work, written ? written + "\n" + template.work : template.work);
    }
    if (template.hours) {
      setValue(form.querySelector("input[name=labour_hours]"), template.hours);
    }
    fillParts(form, template.parts);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var templates = readTemplates();
    document.querySelectorAll("[data-repair-templates]").forEach(function (picker) {
      picker.hidden = false;
      var select = picker.querySelector("[data-repair-template-select]");
      select.addEventListener("change", function () {
        var template = templates[select.value];
        if (template) {
          apply(select.closest("form") || document, template);
        }
      });
    });
  });
})();
