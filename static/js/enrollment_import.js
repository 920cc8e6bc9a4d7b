// Bulk import page: poll the job's progress and fill the bar and the report of rejections.
(function () {
  "use strict";
  const box = document.getElementById("import-progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const summary = box.querySelector(".summary");
  const report = box.querySelector(".report");

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    row.appendChild(td);
  }

  function render(p) {
    bar.value = p.percent;
    summary.textContent = p.status + ": " + p.subjects_created + "/" + p.rows + " subjects, " +
      p.photos_done + "/" + p.photos + " photos checked, " + p.accepted + " accepted";
    const rows = [];
    for (const problem of p.problems) rows.push([problem.row, "", problem.photo, problem.reason]);
    for (const r of p.rejected) rows.push(["", r.subject, r.photo, r.reason]);
    report.replaceChildren();
    if (!rows.length) rows.push(["", "", "", "–"]);
    for (const values of rows) {
      const tr = document.createElement("tr");
      values.forEach((v) => cell(tr, v));
      report.appendChild(tr);
    }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (response.ok) {
        const progress = await response.json();
        render(progress);
        if (progress.finished) return;
      }
    } catch (e) {
      /* network hiccup: try again below */
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
