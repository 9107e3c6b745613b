// Small progressive enhancements; every form also works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A language choice takes effect at once; the "Change" button stays for keyboard users.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) {
        select.form.submit();
      }
    });
  });

  // A section marked data-refresh="N" (the facilitators' live timeline) is fetched again every
  // N seconds and replaced by the same section of the fresh page; the page's own reload link
  // and forms work without this. It pauses while the keyboard focus is inside the section.
  document.querySelectorAll("[data-refresh][id]").forEach(function (section) {
    var seconds = parseInt(section.getAttribute("data-refresh"), 10);
    if (!(seconds >= 5) || !window.fetch || !window.DOMParser) {
      return;
    }
    var refresh = function () {
      var current = document.getElementById(section.id);
      if (!current || current.contains(document.activeElement)) {
        return;
      }
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(section.id);
          var now = document.getElementById(section.id);
          if (fresh && now && !now.contains(document.activeElement)) {
            now.replaceWith(document.importNode(fresh, true));
          }
        })
        .catch(function () {
          // A failed refresh leaves the timeline as it was; the next one tries again.
        });
    };
    window.setInterval(refresh, seconds * 1000);
  });
});
