// Dashboard: follow running exports until their file is ready. Served by the app; no network beyond it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const active = new Set(["queued", "running"]);
  const rows = Array.from(document.querySelectorAll("[data-job-url]")).filter((row) => active.has(row.dataset.jobStatus));

  const follow = (row) => {
    const label = row.querySelector("[data-job-label]");
    const bar = row.querySelector("progress");
    const link = row.querySelector("[data-job-download]");
    const poll = async () => {
      let state;
      try {
        const response = await fetch(row.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return;
        state = await response.json();
      } catch (error) {
        window.setTimeout(poll, 5000);
        return;
      }
      row.dataset.jobStatus = state.status;
      if (label) label.textContent = state.status_label;
      if (bar && state.percent !== null) {
        bar.value = state.percent;
        bar.textContent = `${state.percent}%`;
      }
      if (state.download_url && link) {
        link.href = state.download_url;
        link.hidden = false;
        if (bar) bar.remove();
      }
      if (active.has(state.status)) {
        window.setTimeout(poll, 1500);
      } else if (bar) {
        bar.remove();
      }
    };
    poll();
  };
  rows.forEach(follow);
});
