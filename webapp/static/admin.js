// Directory import: show that the upload is under way, and prevent a second submission meanwhile.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("import-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    var button = document.getElementById("import-button");
    var progress = document.getElementById("import-progress");
    button.disabled = true;
    button.textContent = "Import en cours…";
    progress.hidden = false;
  });
});
