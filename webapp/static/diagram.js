// Diagram pages: draw each deployed BPMN file with bpmn-js (NavigatedViewer) and add what the engine reported:
// markers (CSS classes) and overlays (dates, counts) on elements found by their ids. The data of each drawing is
// JSON in its figure's data-source attribute, so the page needs no inline script.
(function () {
  "use strict";

  function fail(figure, message) {
    var note = figure.querySelector(".diagram-error");
    note.textContent = message;
    note.hidden = false;
    figure.dataset.rendered = "error";
  }

  function badge(overlay) {
    var element = document.createElement("span");
    element.className = "sc-overlay sc-overlay-" + overlay.kind;
    element.textContent = overlay.text;
    element.title = overlay.title || overlay.text;
    return element;
  }

  function render(figure) {
    var data = JSON.parse(figure.dataset.source);
    if (typeof window.BpmnJS !== "function") {
      fail(figure, "Le visualiseur de diagrammes n'a pas pu être chargé : " +
                   "la liste des étapes ci-dessous reste disponible.");
      return Promise.resolve();
    }
    var container = figure.querySelector(".diagram-canvas");
    var viewer = new window.BpmnJS({ container: container });
    return viewer.importXML(data.xml, data.diagram || undefined).then(function (result) {
      var canvas = viewer.get("canvas");
      var overlays = viewer.get("overlays");
      var registry = viewer.get("elementRegistry");
      var missing = [];
      Object.keys(data.markers).forEach(function (marker) {
        data.markers[marker].forEach(function (id) {
          if (registry.get(id)) {
            canvas.addMarker(id, marker);
          } else {
            missing.push(id);
          }
        });
      });
      data.overlays.forEach(function (overlay) {
        if (registry.get(overlay.id)) {
          // Dates of done steps shrink with the drawing (zoom in to read them); what waits stays readable.
          // Incidents above the element, the rest below: neighbours' badges do not cover each other.
          overlays.add(overlay.id, "sc-" + overlay.kind, {
            position: overlay.kind === "incident" ? { top: -4, left: 0 } : { bottom: -4, left: 0 },
            scale: overlay.kind === "done" ? true : { min: 1 },
            html: badge(overlay)
          });
        }
      });
      // As tall as the drawing needs at the page's width (within bounds), so that wide diagrams stay readable.
      var inner = canvas.viewbox().inner;
      if (inner.width > 0) {
        var height = container.clientWidth * inner.height / inner.width + 60;
        container.style.height = Math.round(Math.min(Math.max(height, 240), 720)) + "px";
        canvas.resized();
      }
      canvas.zoom("fit-viewport", "auto");
      // A margin for the badges of elements on the drawing's edges (the centre is in the container's pixels).
      canvas.zoom(canvas.zoom() * 0.94, { x: container.clientWidth / 2, y: container.clientHeight / 2 });
      figure.dataset.missing = missing.join(" ");
      figure.dataset.warnings = String(result.warnings.length);
      figure.dataset.rendered = "true";
    }).catch(function (error) {
      fail(figure, "Le diagramme n'a pas pu être affiché : " + error.message);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("figure[data-source]"), render);
  });
}());
