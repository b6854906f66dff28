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
  var photoSearchPage = document.getElementById("photo-search");
  // The results' sort menu applies as soon as it changes (the search page's own script does it there).
  document.addEventListener("change", function (event) {
    if (!photoSearchPage && event.target.matches && event.target.matches("#id_sort")) event.target.form.submit();
  });
  // Paste a screenshot anywhere in the shop to search by it (text pasted into a field stays text).
  var pasteForm = document.getElementById("paste-search");
  if (photoSearchPage || !pasteForm || typeof DataTransfer === "undefined") return;
  document.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    var pasted = Array.prototype.slice.call((data && data.files) || []).filter(function (file) {
      return file && (!file.type || file.type.indexOf("image/") === 0);
    });
    if (!pasted.length) return;
    event.preventDefault();
    var transfer = new DataTransfer();
    pasted.forEach(function (file) { transfer.items.add(file); });
    pasteForm.querySelector('input[type="file"]').files = transfer.files;
    pasteForm.submit();
  });
})();
