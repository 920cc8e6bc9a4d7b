/* Admin pages with reference photos: while any shows "pending", ask for the statuses every
 * 1.5 s and reload the page once one has been decided, so its crop and reason appear. */
(function () {
  "use strict";
  function pending() {
    return Array.prototype.slice.call(document.querySelectorAll(".photo-status[data-status='pending']"));
  }

  function poll() {
    var badges = pending();
    if (!badges.length) { return; }
    var ids = badges.map(function (b) { return b.dataset.photo; }).join(",");
    fetch(badges[0].dataset.poll + "?ids=" + ids, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      var decided = data && badges.some(function (b) { return (data.photos[b.dataset.photo] || {}).status !== "pending"; });
      if (decided) {
        window.location.reload();
        return;
      }
      setTimeout(poll, 1500);
    }).catch(function () {
      setTimeout(poll, 1500); // try again
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setTimeout(poll, 1500); });
})();
