// Long submissions (a contract being generated, a file being checked): the clicked button says what is
// happening, the form is marked busy for assistive technologies, and a second click sends nothing twice.
// The button is not disabled: a disabled submitter would drop its own name and value from the submission.
(function () {
  function reset(form) {
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button[data-busy-label]").forEach(function (button) {
      if (button.dataset.idleLabel) {
        button.textContent = button.dataset.idleLabel;
      }
      button.removeAttribute("aria-disabled");
      button.classList.remove("busy");
    });
    form.querySelectorAll(".busy-status").forEach(function (status) {
      status.textContent = "";
    });
  }

  function watch(form) {
    // The live region exists before it is filled, so that screen readers announce the change.
    var status = document.createElement("p");
    status.className = "busy-status visually-hidden";
    status.setAttribute("role", "status");
    form.appendChild(status);
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("aria-busy") === "true") {
        event.preventDefault();
        return;
      }
      // Browsers older than 2022 give no submitter: a form with a single button is still clear.
      var buttons = form.querySelectorAll("button[type=submit]");
      var button = event.submitter || (buttons.length === 1 ? buttons[0] : null);
      if (!button || !button.hasAttribute("data-busy-label")) {
        return;
      }
      var label = button.getAttribute("data-busy-label");
      button.dataset.idleLabel = button.textContent;
      button.textContent = label;
      button.setAttribute("aria-disabled", "true");
      button.classList.add("busy");
      form.setAttribute("aria-busy", "true");
      status.textContent = label;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-busy-form]").forEach(watch);
  });
  // Coming back with the browser's Back button shows the page as it was left: ready to be sent again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-busy-form]").forEach(reset);
    }
  });
})();
