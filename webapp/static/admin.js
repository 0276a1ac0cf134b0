// Directory import: show that the file is being sent, and prevent a second submission meanwhile.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("import-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    var button = document.getElementById("import-button");
    var progress = document.getElementById("import-progress");
    button.disabled = true;
    button.textContent = "Envoi en cours…";
    progress.hidden = false;
  });
});
