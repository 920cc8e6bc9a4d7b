// Admin pages with reference photos: while any shows "pending", ask for the statuses every
// 1.5 s and reload the page once one has been decided, so its crop and reason appear.
(function () {
  "use strict";
  function pending() {
    return Array.from(document.querySelectorAll(".photo-status[data-status='pending']"));
  }
  async function poll() {
    const badges = pending();
    if (!badges.length) return;
    const ids = badges.map((b) => b.dataset.photo).join(",");
    try {
      const response = await fetch(badges[0].dataset.poll + "?ids=" + ids, { credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        const decided = badges.some((b) => (data.photos[b.dataset.photo] || {}).status !== "pending");
        if (decided) {
          window.location.reload();
          return;
        }
      }
    } catch (e) {
      /* try again below */
    }
    setTimeout(poll, 1500);
  }
  document.addEventListener("DOMContentLoaded", () => setTimeout(poll, 1500));
})();
