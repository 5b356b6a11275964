// Progressive enhancement of the upload form: drag and drop, a size check before
// sending, and a progress bar while a large photo uploads. Without JavaScript the
// plain form still works.
"use strict";

(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("image-input");
  const dropzone = document.getElementById("dropzone");
  const chosen = document.getElementById("chosen-file");
  const errorBox = document.getElementById("form-error");
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const button = form.querySelector("button[type=submit]");
  const maxBytes = Number(form.dataset.maxBytes);

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function describe(file) {
    return file ? `${file.name} (${(file.size / 1048576).toFixed(1)} MB)` : "";
  }

  input.addEventListener("change", () => {
    chosen.textContent = describe(input.files[0]);
    showError("");
  });

  ["dragenter", "dragover"].forEach((type) =>
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    })
  );
  ["dragleave", "drop"].forEach((type) =>
    dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"))
  );
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
      form.requestSubmit();
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) {
      showError("Choose a photo first.");
      return;
    }
    if (file.size > maxBytes) {
      // Worded like the server's 413 message (shared/uploads.py): "1.5 MB", "20 MB".
      const maxMegabytes = Number((maxBytes / 1048576).toPrecision(6));
      showError(`The file is larger than the ${maxMegabytes} MB limit.`);
      return;
    }
    upload(new FormData(form));
  });

  function upload(formData) {
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.responseType = "document";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        progress.value = (100 * event.loaded) / event.total;
        status.textContent = progress.value < 100 ? "Uploading…" : "Classifying…";
      }
    });
    request.addEventListener("load", () => {
      finish();
      const page = request.response;
      if (request.status === 200 && page) {
        // Show the result page the server rendered, at its own address when the
        // server redirected there (a stored submission's page).
        if (request.responseURL && request.responseURL !== window.location.href) {
          window.history.replaceState(null, "", request.responseURL);
        }
        document.title = page.title;
        document.body.replaceWith(document.adoptNode(page.body));
        return;
      }
      const serverError = page && page.getElementById("form-error");
      showError(
        (serverError && serverError.textContent.trim()) ||
          `The server answered ${request.status}. Please try again.`
      );
    });
    request.addEventListener("error", () => {
      finish();
      showError("The upload failed: the server could not be reached.");
    });
    progress.value = 0;
    progress.hidden = false;
    button.disabled = true;
    showError("");
    status.textContent = "Uploading…";
    request.send(formData);
  }

  function finish() {
    progress.hidden = true;
    button.disabled = false;
    status.textContent = "";
  }
})();
