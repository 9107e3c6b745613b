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
});
