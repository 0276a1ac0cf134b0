// The form editor: a list of the schema's fields (name, title, type, required, choices, description; add, remove,
// reorder) kept in step with the raw JSON of the schema and its UI hints (for everything the list does not cover),
// and a live preview rendered by the server with the task page's own macros (templates/_form.html).
// Registers with the save bar (process-editor.js), which saves both files.
(function () {
  "use strict";

  // What the « Type » list offers, as [label, type, format].
  var KINDS = [
    ["Texte", "string", ""], ["Date", "string", "date"], ["Adresse électronique", "string", "email"],
    ["Adresse web", "string", "uri"], ["Fichier joint", "string", "data-url"], ["Nombre entier", "integer", ""],
    ["Nombre", "number", ""], ["Case à cocher (oui/non)", "boolean", ""], ["Choix multiples", "array", ""]
  ];

  var data, schemaBox, uiBox, list, previewBox, previewError, timer, counter = 0;
  var opened = [];  // names of the fields whose details are open, kept across redraws

  function parse(text) {
    try {
      var value = JSON.parse(text || "{}");
      return value && typeof value === "object" && !Array.isArray(value) ? value : null;
    } catch (error) {
      return null;
    }
  }

  function write(box, value) {
    box.value = JSON.stringify(value, null, 2) + "\n";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function order(schema, ui) {
    var names = Object.keys(schema.properties || {});
    var wanted = Array.isArray(ui["ui:order"]) ? ui["ui:order"] : [];
    return wanted.filter(function (n) { return names.indexOf(n) >= 0; })
      .concat(names.filter(function (n) { return wanted.indexOf(n) < 0; }));
  }

  // Apply a change to the schema and UI hints (both parsed from the raw JSON), then redraw everything.
  function change(apply) {
    var schema = parse(schemaBox.value);
    var ui = parse(uiBox.value) || {};
    if (!schema) { return; }
    schema.properties = schema.properties || {};
    apply(schema, ui);
    write(schemaBox, schema);
    write(uiBox, ui);
    renderList();
    preview();
  }

  function reorder(schema, ui, names) {
    var properties = {};
    names.forEach(function (n) { properties[n] = schema.properties[n]; });
    schema.properties = properties;
    if (Array.isArray(ui["ui:order"])) { ui["ui:order"] = names.slice(); }
  }

  // The choices of a property as lines: « value | label » from oneOf (const, title), « value » from enum.
  function choiceLines(prop) {
    if (Array.isArray(prop.oneOf)) {
      return prop.oneOf.filter(function (c) { return c && "const" in c; }).map(function (c) {
        return String(c.const) + (c.title !== undefined ? " | " + c.title : "");
      });
    }
    return (prop.enum || []).map(String);
  }

  // Lines back into the property: oneOf when a label is given (the task page shows labels), enum otherwise.
  function setChoices(prop, lines) {
    delete prop.enum;
    delete prop.oneOf;
    if (!lines.length) { return; }
    var number = prop.type === "integer" || prop.type === "number";
    function value(text) { return number && text !== "" && !isNaN(Number(text)) ? Number(text) : text; }
    if (lines.some(function (line) { return line.indexOf("|") >= 0; })) {
      prop.oneOf = lines.map(function (line) {
        var parts = line.split("|");
        var option = { "const": value(parts[0].trim()) };
        option.title = (parts.slice(1).join("|").trim()) || parts[0].trim();
        return option;
      });
    } else {
      prop.enum = lines.map(value);
    }
  }

  function kindOf(prop) {
    var format = prop.type === "string" ? (prop.format || "") : "";
    var index = KINDS.findIndex(function (k) { return k[1] === prop.type && k[2] === format; });
    return index < 0 ? 0 : index;
  }

  function control(row, label, input) {
    var id = "champ-editeur-" + (++counter);
    input.id = id;
    var wrap = el("div", { "class": "field" });
    wrap.appendChild(el("label", { "for": id }, label));
    wrap.appendChild(input);
    row.appendChild(wrap);
    return input;
  }

  function fieldRow(name, index, names, schema) {
    var prop = schema.properties[name] || {};
    var item = el("li", { "class": "card field-row", "data-field": name });
    // Collapsed to one line (name, title, type) until opened: a long form stays readable.
    var row = el("details");
    row.open = opened.indexOf(name) >= 0;
    row.addEventListener("toggle", function () {
      opened = opened.filter(function (n) { return n !== name; }).concat(row.open ? [name] : []);
    });
    row.appendChild(el("summary", {}, name + " — " + (prop.title || "sans titre") + " (" + KINDS[kindOf(prop)][0] +
                                      ((schema.required || []).indexOf(name) >= 0 ? ", obligatoire" : "") + ")"));
    item.appendChild(row);
    var nameInput = control(row, "Nom (identifiant)", el("input", { type: "text", value: name }));
    nameInput.addEventListener("change", function () {
      var renamed = nameInput.value.trim();
      if (!/^[a-z][a-z0-9_]*$/.test(renamed) || names.indexOf(renamed) >= 0) {
        nameInput.setAttribute("aria-invalid", "true");
        return;
      }
      opened.push(renamed);
      change(function (s, ui) {
        var next = names.map(function (n) { return n === name ? renamed : n; });
        s.properties[renamed] = s.properties[name];
        s.required = (s.required || []).map(function (n) { return n === name ? renamed : n; });
        if (ui[name]) { ui[renamed] = ui[name]; delete ui[name]; }
        reorder(s, ui, next);
      });
    });
    var title = control(row, "Titre", el("input", { type: "text" }));
    title.value = prop.title || "";
    title.addEventListener("change", function () {
      change(function (s) { s.properties[name].title = title.value; });
    });
    var kind = control(row, "Type", el("select"));
    KINDS.forEach(function (k, i) {
      var option = el("option", { value: String(i) }, k[0]);
      if (i === kindOf(prop)) { option.selected = true; }
      kind.appendChild(option);
    });
    kind.addEventListener("change", function () {
      change(function (s) {
        var p = s.properties[name];
        var k = KINDS[Number(kind.value)];
        var wasArray = p.type === "array";
        var lines = choiceLines(wasArray ? p.items || {} : p);
        p.type = k[1];
        if (k[2]) { p.format = k[2]; } else { delete p.format; }
        if (k[1] === "array") {
          p.items = { type: "string" };
          p.uniqueItems = true;
          setChoices(p, []);
          setChoices(p.items, lines);
        } else if (wasArray) {
          delete p.items;
          delete p.uniqueItems;
          setChoices(p, lines);
        }
      });
    });
    var required = el("input", { type: "checkbox" });
    required.checked = (schema.required || []).indexOf(name) >= 0;
    var requiredWrap = el("div", { "class": "choice" });
    required.id = "champ-editeur-" + (++counter);
    requiredWrap.appendChild(required);
    requiredWrap.appendChild(el("label", { "for": required.id }, "Obligatoire"));
    row.appendChild(requiredWrap);
    required.addEventListener("change", function () {
      change(function (s) {
        var kept = (s.required || []).filter(function (n) { return n !== name; });
        s.required = required.checked ? kept.concat([name]) : kept;
      });
    });
    var enumBox = control(row, "Choix proposés (un par ligne, « valeur | libellé » ; vide : saisie libre)",
                          el("textarea", { rows: "3" }));
    enumBox.value = choiceLines(prop.type === "array" ? prop.items || {} : prop).join("\n");
    enumBox.addEventListener("change", function () {
      var lines = enumBox.value.split("\n").map(function (v) { return v.trim(); }).filter(Boolean);
      change(function (s) {
        var p = s.properties[name];
        setChoices(p.type === "array" ? (p.items = p.items || { type: "string" }) : p, lines);
      });
    });
    var description = control(row, "Description (aide sous le champ)", el("textarea", { rows: "2" }));
    description.value = prop.description || "";
    description.addEventListener("change", function () {
      change(function (s) {
        if (description.value.trim()) { s.properties[name].description = description.value.trim(); }
        else { delete s.properties[name].description; }
      });
    });
    var actions = el("div", { "class": "actions" });
    [["Monter", -1], ["Descendre", 1]].forEach(function (move) {
      var button = el("button", { type: "button", "aria-label": move[0] + " le champ " + name }, move[0]);
      var target = index + move[1];
      button.disabled = target < 0 || target >= names.length;
      button.addEventListener("click", function () {
        change(function (s, ui) {
          var next = names.slice();
          next.splice(index, 1);
          next.splice(target, 0, name);
          reorder(s, ui, next);
        });
      });
      actions.appendChild(button);
    });
    var remove = el("button", { type: "button", "class": "danger", "aria-label": "Supprimer le champ " + name },
                    "Supprimer");
    remove.addEventListener("click", function () {
      change(function (s, ui) {
        delete s.properties[name];
        s.required = (s.required || []).filter(function (n) { return n !== name; });
        delete ui[name];
        if (Array.isArray(ui["ui:order"])) { ui["ui:order"] = ui["ui:order"].filter(function (n) { return n !== name; }); }
      });
    });
    actions.appendChild(remove);
    row.appendChild(actions);
    return item;
  }

  function renderList() {
    var schema = parse(schemaBox.value);
    var ui = parse(uiBox.value) || {};
    list.textContent = "";
    if (!schema) {
      list.appendChild(el("li", { "class": "muted" }, "Le JSON du schéma est invalide : corrigez-le ci-dessous."));
      return;
    }
    var names = order(schema, ui);
    names.forEach(function (name, index) { list.appendChild(fieldRow(name, index, names, schema)); });
  }

  function preview() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      window.ScEditor.post(data.preview_url, { schema: schemaBox.value, uischema: uiBox.value || "{}" })
        .then(function (answer) {
          if (answer.ok) {
            previewError.hidden = true;
            previewBox.innerHTML = answer.body;
          } else {
            previewError.textContent = (answer.body && answer.body.message) || "L'aperçu a échoué.";
            previewError.hidden = false;
          }
          previewBox.dataset.updated = String(Number(previewBox.dataset.updated || "0") + 1);
        });
    }, 300);
  }

  document.addEventListener("DOMContentLoaded", function () {
    data = window.ScEditor.data;
    schemaBox = document.querySelector('#editeur [data-raw="schema"]');
    uiBox = document.querySelector('#editeur [data-raw="uischema"]');
    list = document.querySelector("#editeur [data-field-list]");
    previewBox = document.querySelector("#editeur [data-preview]");
    previewError = document.querySelector("#editeur [data-preview-error]");
    schemaBox.value = data.content || JSON.stringify({
      "$schema": "https://json-schema.org/draft/2020-12/schema", title: "", type: "object", required: [],
      properties: {}, additionalProperties: false
    }, null, 2) + "\n";
    uiBox.value = data.ui_content || "{}\n";
    [schemaBox, uiBox].forEach(function (box) {
      box.addEventListener("input", function () { renderList(); preview(); });
    });
    document.querySelector("#editeur [data-add-field]").addEventListener("click", function () {
      change(function (s, ui) {
        var n = 1;
        while (s.properties["champ_" + n]) { n += 1; }
        s.properties["champ_" + n] = { type: "string", title: "Nouveau champ" };
        opened.push("champ_" + n);
        if (Array.isArray(ui["ui:order"])) { ui["ui:order"].push("champ_" + n); }
      });
    });
    renderList();
    preview();
    window.ScEditor.register({
      files: function () {
        var files = {};
        files[data.name] = schemaBox.value;
        var ui = uiBox.value.trim();
        // A form without UI hints keeps having none.
        if (data.ui_content || (ui && ui !== "{}")) { files[data.ui_name] = uiBox.value; }
        return Promise.resolve(files);
      },
      highlight: function () {}
    });
  });
}());
