/*
 * Requirement editor: show only the parameter fields of the kind chosen in each requirement (or template).
 * Progressive enhancement: without this script every field shows, each with a help text naming its kinds.
 * The kind <select> carries data-kind-params: {"min_evidence": ["count", "categories", ...], ...}.
 */
(function () {
  "use strict";

  function container(select) {
    return select.closest(".inline-related") || select.form || document;
  }

  function toggle(select) {
    var map;
    try {
      map = JSON.parse(select.getAttribute("data-kind-params") || "{}");
    } catch (err) {
      return;
    }
    var wanted = map[select.value];
    var every = {};
    Object.keys(map).forEach(function (kind) {
      map[kind].forEach(function (name) {
        every[name] = true;
      });
    });
    var root = container(select);
    Object.keys(every).forEach(function (name) {
      var show = !wanted || wanted.indexOf(name) !== -1;
      root.querySelectorAll(".form-row.field-" + name + ", .fieldBox.field-" + name).forEach(function (row) {
        row.style.display = show ? "" : "none";
      });
    });
  }

  function toggleAll(root) {
    root.querySelectorAll("select.requirement-kind").forEach(toggle);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select.requirement-kind")) {
      toggle(event.target);
    }
  });
  // Django's admin fires formset:added on the new row when "Add another requirement" is clicked.
  document.addEventListener("formset:added", function (event) {
    toggleAll(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      toggleAll(document);
    });
  } else {
    toggleAll(document);
  }
})();
