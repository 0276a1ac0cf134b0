// A scenario run played in the background (coverage page): the page asks where it stands every second and a
// half, moves its progress bar and message (« Scénario 7 sur 18 : … »), and reloads itself once the run has
// ended, to show the outcomes and the coverage. Without JavaScript, a refresh in <noscript> does the same.
(function () {
  "use strict";

  var box = document.querySelector("[data-run-status]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var message = box.querySelector("[data-run-message]");

  function poll() {
    fetch(box.dataset.runStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (run) {
        if (run.status !== "running") {
          window.location.reload();
          return;
        }
        bar.max = run.total || 1;
        bar.value = run.done;
        message.textContent = run.message;
        window.setTimeout(poll, 1500);
      })
      .catch(function () {
        // The server may be restarting: try again a little later.
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1500);
}());
