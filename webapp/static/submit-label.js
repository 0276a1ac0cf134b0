// The submit button says what the chosen decision does (« Refuser le candidat »): the form names the field
// that decides and the label of each of its values; without JavaScript the page shows the label of the value
// the form opened with.
(function () {
  function follow(form) {
    var field = form.dataset.submitField;
    var labels = JSON.parse(form.dataset.submitLabels || "{}");
    var button = form.querySelector("button[data-submit-button]");
    if (!button) {
      return;
    }
    var fallback = "Valider et transmettre";
    form.addEventListener("change", function (event) {
      if (event.target.name !== field) {
        return;
      }
      button.textContent = labels[event.target.value] || fallback;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-submit-field]").forEach(follow);
  });
})();
