// The DMN editor: dmn-js's Modeler opened on the decision table itself (not the requirements diagram);
// registers with the save bar (process-editor.js), which saves the file's XML.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var data = window.ScEditor.data;
    if (typeof window.DmnJS !== "function") {
      window.ScEditor.fail("Le modeleur de tables de décision n'a pas pu être chargé.");
      return;
    }
    var modeler = new window.DmnJS({
      container: document.querySelector("#editeur .editor-canvas")
    });
    window.ScModeler = modeler;
    modeler.importXML(data.content).then(function () {
      // Analysts edit the table: open it directly when the file has one.
      var table = modeler.getViews().filter(function (view) { return view.type === "decisionTable"; })[0];
      return table ? modeler.open(table) : null;
    }).then(function () {
      window.ScEditor.register({
        files: function () {
          return modeler.saveXML({ format: true }).then(function (saved) {
            var files = {};
            files[data.name] = saved.xml;
            return files;
          });
        },
        highlight: function () {}
      });
    }).catch(function (error) {
      window.ScEditor.fail("La table de décision n'a pas pu être ouverte : " + error.message);
    });
  });
}());
