// Search by photo, enhanced: drag and drop, paste (Ctrl+V anywhere), previews, results updated
// in place (the address bar follows, so Back and reload show them again), sort, more results and
// a crop box (cropperjs). Without this script the form is a plain multipart POST that redirects
// to the results URL, and the whole photo is searched.
(function () {
  "use strict";
  var form = document.getElementById("photo-search");
  if (!form || !window.fetch || !window.FormData) return;

  var fileInput = form.querySelector('input[name="images"]');
  var cameraInput = form.querySelector('input[name="camera"]');
  var dropzone = document.getElementById("dropzone");
  var preview = document.getElementById("preview");
  var progress = document.getElementById("progress");
  var results = document.getElementById("results");
  var button = document.getElementById("search-button");
  var files = [];
  var pending = null;

  function isImage(file) {
    return !file.type || file.type.indexOf("image/") === 0;
  }

  // Keep the real input in step with our list, so a plain submit still sends every photo.
  function syncInput() {
    if (typeof DataTransfer === "undefined") return;
    try {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      fileInput.files = transfer.files;
    } catch (error) { /* older browsers: FormData below still carries the files */ }
  }

  function renderPreview() {
    preview.innerHTML = "";
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      if (isImage(file) && window.URL && URL.createObjectURL) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "Preview of " + (file.name || "pasted image");
        img.onload = function () { URL.revokeObjectURL(img.src); };
        img.onerror = function () { img.replaceWith(document.createTextNode("(no preview)")); };
        item.appendChild(img);
      }
      var name = document.createElement("span");
      name.className = "preview-name";
      name.textContent = file.name || "pasted image";
      item.appendChild(name);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + (file.name || "pasted image"));
      remove.addEventListener("click", function () {
        files.splice(index, 1);
        syncInput();
        renderPreview();
      });
      item.appendChild(remove);
      preview.appendChild(item);
    });
  }

  function addFiles(list, replace) {
    var added = Array.prototype.slice.call(list || []);
    if (!added.length) return;
    files = replace ? added : files.concat(added);
    syncInput();
    renderPreview();
    search();
  }

  function search() {
    if (pending) pending.abort();
    var controller = window.AbortController ? new AbortController() : null;
    pending = controller;
    var data = new FormData(form);
    data.delete("images");
    data.delete("camera");
    files.forEach(function (file) { data.append("images", file, file.name || "pasted-image.png"); });
    progress.hidden = false;
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    load(form.action, { method: "POST", body: data }, controller, true);
  }

  // Fetch a results URL (or the POST that redirects to one), swap the results in and give the
  // address bar the results URL, so Back, reload and a shared link show the same results.
  function load(url, options, controller, fromForm) {
    options.headers = { "X-Requested-With": "fetch" };
    options.credentials = "same-origin";
    options.signal = controller ? controller.signal : undefined;
    progress.hidden = false;
    fetch(url, options).then(function (response) {
      return response.text().then(function (html) {
        if (!response.ok && response.status >= 500) throw new Error("server");
        results.innerHTML = html;
        if (response.ok && response.url && response.url !== window.location.href) {
          window.history.pushState({ results: true }, "", response.url);
        }
        if (response.ok && fromForm) {
          files = [];
          syncInput();
          renderPreview();
        }
        var heading = results.querySelector("h2, [role=alert]");
        if (heading) results.focus({ preventScroll: false });
      });
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      results.innerHTML = '<div class="alert alert-error" role="alert">We could not reach the shop. ' +
        "Check your connection and try again.</div>";
    }).then(function () {
      if (pending !== controller) return;
      pending = null;
      progress.hidden = true;
      button.disabled = false;
      form.removeAttribute("aria-busy");
    });
  }

  // Inside the results: removing a photo, "More results", the sort menu and the crop box.
  results.addEventListener("click", function (event) {
    var link = event.target.closest("a.fetch-link, a#more-results");
    if (link) {
      event.preventDefault();
      load(link.href, { method: "GET" }, null, false);
      return;
    }
    var cropButton = event.target.closest(".crop-button");
    if (cropButton) startCrop(cropButton);
  });
  results.addEventListener("change", function (event) {
    if (!event.target.matches("#id_sort")) return;
    var sortForm = event.target.form;
    var params = new URLSearchParams(new FormData(sortForm)).toString();
    load(sortForm.action + "?" + params, { method: "GET" }, null, false);
  });
  window.addEventListener("popstate", function () { window.location.reload(); });

  var cropper = null;
  function startCrop(button) {
    var panel = document.getElementById("crop-panel");
    var stage = document.getElementById("crop-stage");
    var photo = button.closest("li").querySelector("img.query-photo");
    if (!panel || !stage || !photo || typeof window.Cropper === "undefined") return;
    panel.hidden = false;
    if (cropper) cropper.destroy();
    stage.innerHTML = "";
    var image = document.createElement("img");
    image.id = "crop-image";
    image.alt = "Your photo, to select an area of";
    stage.appendChild(image);
    image.onload = function () {
      cropper = new window.Cropper(image, { viewMode: 1, autoCropArea: 0.6, zoomable: false, movable: false });
    };
    image.src = photo.src;
    document.getElementById("crop-cancel").onclick = function () {
      if (cropper) cropper.destroy();
      cropper = null;
      panel.hidden = true;
    };
    document.getElementById("crop-search").onclick = function () {
      if (!cropper) return;
      var box = cropper.getData(true);
      var natural = cropper.getImageData();
      var w = natural.naturalWidth, h = natural.naturalHeight;
      var crop = [box.x / w, box.y / h, box.width / w, box.height / h].map(function (v) {
        return Math.max(0, Math.min(1, v)).toFixed(4);
      }).join(",");
      load(button.getAttribute("data-crop-url") + encodeURIComponent(crop), { method: "GET" }, null, false);
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search();
  });
  fileInput.addEventListener("change", function () { addFiles(fileInput.files, true); });
  if (cameraInput) {
    cameraInput.addEventListener("change", function () {
      var shot = Array.prototype.slice.call(cameraInput.files);
      cameraInput.value = "";
      addFiles(shot, false);
    });
  }

  // Drop anywhere on the page; the drop zone lights up while something is dragged over it.
  var depth = 0;
  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }
  document.addEventListener("dragenter", function (event) {
    if (!hasFiles(event)) return;
    depth += 1;
    dropzone.classList.add("is-dragover");
  });
  document.addEventListener("dragleave", function () {
    depth = Math.max(0, depth - 1);
    if (!depth) dropzone.classList.remove("is-dragover");
  });
  document.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", function (event) {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    depth = 0;
    dropzone.classList.remove("is-dragover");
    addFiles(event.dataTransfer.files, true);
  });

  // Paste a screenshot anywhere (text pasted into a field stays text).
  document.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    if (!data) return;
    var pasted = Array.prototype.slice.call(data.files || []);
    if (!pasted.length && data.items) {
      Array.prototype.forEach.call(data.items, function (item) {
        if (item.kind === "file") pasted.push(item.getAsFile());
      });
    }
    pasted = pasted.filter(Boolean);
    if (!pasted.length) return;
    event.preventDefault();
    addFiles(pasted, true);
  });
})();
