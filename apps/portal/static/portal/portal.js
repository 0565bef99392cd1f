// Small progressive enhancements; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Show the receiving group only for internal customers.
  const type = document.querySelector("[data-customer-type]");
  const unit = document.querySelector("[data-internal-unit]");
  if (type && unit) {
    const wrapper = unit.closest(".field");
    const sync = (changed) => {
      const internal = type.value === "internal";
      if (!internal && changed) unit.value = "";
      wrapper.hidden = !internal && !wrapper.classList.contains("field--error");
    };
    type.addEventListener("change", () => sync(true));
    sync(false);
  }

  // Move keyboard and screen-reader focus to the error summary after a failed submission.
  const summary = document.querySelector(".error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
});

// Case page: a link to a closed <details> section (the exception request) opens it.
document.addEventListener("DOMContentLoaded", () => {
  const openTarget = () => {
    const target = window.location.hash && document.querySelector(window.location.hash);
    if (target && target.tagName === "DETAILS") target.open = true;
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();
});
