/* Bulk import page: poll the job's progress and fill the bar and the report of rejections. */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var summary = box.querySelector(".summary");
  var report = box.querySelector(".report");

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(td);
  }

  function render(p) {
    bar.value = p.percent;
    summary.textContent = p.summary; // in the reader's language, from the server
    var rows = [];
    p.problems.forEach(function (problem) { rows.push([problem.row, "", problem.photo, problem.reason]); });
    p.rejected.forEach(function (r) { rows.push(["", r.subject, r.photo, r.reason]); });
    p.without_photo.forEach(function (s) { rows.push(["", s.subject, "", s.reason]); });
    report.replaceChildren();
    if (!rows.length) { rows.push(["", "", "", "–"]); }
    rows.forEach(function (values) {
      var tr = document.createElement("tr");
      values.forEach(function (v) { cell(tr, v); });
      report.appendChild(tr);
    });
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { return null; }
      return response.json();
    }).then(function (progress) {
      if (progress) {
        render(progress);
        if (progress.finished) { return; }
      }
      setTimeout(poll, 1000);
    }).catch(function () {
      setTimeout(poll, 1000); // network hiccup: try again
    });
  }
  poll();
})();
