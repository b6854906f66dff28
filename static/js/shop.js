// Small progressive enhancements for every page; the pages work without them.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");
  // Filters take the whole first screen on a phone: start them folded there.
  if (window.matchMedia("(max-width: 799px)").matches) {
    document.querySelectorAll("details[data-collapsible]").forEach(function (details) {
      details.open = false;
    });
  }
})();
