// The BPMN editor: bpmn-js's Modeler with our spiffworkflow extensions (static/spiffworkflow-moddle.json) and the
// properties panel (process-editor-panel.js); registers with the save bar (process-editor.js), which saves the
// diagram's XML and gets the elements the validator names highlighted (marker class `sc-problem`).
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var data = window.ScEditor.data;
    if (typeof window.BpmnJS !== "function") {
      window.ScEditor.fail("Le modeleur de diagrammes n'a pas pu être chargé.");
      return;
    }
    fetch(data.moddle_url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (spiff) {
      var modeler = new window.BpmnJS({
        container: document.querySelector("#editeur .editor-canvas"),
        moddleExtensions: { spiffworkflow: spiff }
      });
      window.ScModeler = modeler;
      return modeler.importXML(data.content).then(function (result) {
        var canvas = modeler.get("canvas");
        var registry = modeler.get("elementRegistry");
        var marked = [];
        canvas.zoom("fit-viewport", "auto");
        var panel = window.ScBpmnPanel(modeler, data, document.querySelector("#editeur [data-properties]"));
        panel.render(null);
        window.ScEditor.register({
          files: function () {
            return modeler.saveXML({ format: true }).then(function (saved) {
              var files = {};
              files[data.name] = saved.xml;
              return files;
            });
          },
          highlight: function (problems) {
            marked.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "sc-problem"); } });
            marked = [];
            problems.forEach(function (problem) {
              if (registry.get(problem.element_id)) {
                canvas.addMarker(problem.element_id, "sc-problem");
                marked.push(problem.element_id);
              }
            });
          }
        });
        document.getElementById("editeur").dataset.warnings = String(result.warnings.length);
      });
    }).catch(function (error) {
      window.ScEditor.fail("Le diagramme n'a pas pu être ouvert : " + error.message);
    });
  });
}());
