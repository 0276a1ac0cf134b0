// The properties panel beside the BPMN modeler: our spiffworkflow extensions on the selected element (forms,
// variable, instructions, due dates of user tasks; handler and parameters of service tasks; the decision of
// business rule tasks; the role of lanes; the catalogue properties of the process). Every change goes through
// the modeler's commands (modeling.updateModdleProperties / updateProperties), so it is undoable and saved with
// the diagram. The moddle descriptor of the extensions is static/spiffworkflow-moddle.json.
(function () {
  "use strict";

  var SPIFF = "spiffworkflow:";
  var DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;
  var TYPES = ["str", "int", "float", "bool", "dict", "list"];

  window.ScBpmnPanel = function (modeler, data, container) {
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    var handlers = [];
    var counter = 0;

    fetch(data.handlers_url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (list) { handlers = list; });

    // --- reading and writing extension elements -------------------------------------------------------------
    function values(bo) {
      return (bo.extensionElements && bo.extensionElements.get("values")) || [];
    }

    function child(bo, type) {
      return values(bo).filter(function (v) { return v.$type === SPIFF + type; })[0];
    }

    function extensions(element, bo) {
      if (!bo.extensionElements) {
        modeling.updateModdleProperties(element, bo,
                                        { extensionElements: moddle.create("bpmn:ExtensionElements", { values: [] }) });
      }
      return bo.extensionElements;
    }

    function addChild(element, bo, created) {
      var ext = extensions(element, bo);
      created.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: values(bo).concat([created]) });
      return created;
    }

    function removeChild(element, bo, existing) {
      modeling.updateModdleProperties(element, bo.extensionElements,
                                      { values: values(bo).filter(function (v) { return v !== existing; }) });
    }

    function setBody(element, bo, type, value) {
      var existing = child(bo, type);
      if (existing && value) {
        modeling.updateModdleProperties(element, existing, { value: value });
      } else if (existing) {
        removeChild(element, bo, existing);
      } else if (value) {
        addChild(element, bo, moddle.create(SPIFF + type, { value: value }));
      }
    }

    function property(bo, name) {
      var props = child(bo, "Properties");
      var found = props ? props.get("properties").filter(function (p) { return p.name === name; })[0] : null;
      return found || null;
    }

    function setProperty(element, bo, name, value) {
      var props = child(bo, "Properties");
      var existing = property(bo, name);
      if (existing && value) {
        modeling.updateModdleProperties(element, existing, { value: value });
      } else if (existing) {
        modeling.updateModdleProperties(element, props, {
          properties: props.get("properties").filter(function (p) { return p !== existing; })
        });
      } else if (value) {
        props = props || addChild(element, bo, moddle.create(SPIFF + "Properties", { properties: [] }));
        var created = moddle.create(SPIFF + "Property", { name: name, value: value });
        created.$parent = props;
        modeling.updateModdleProperties(element, props, { properties: props.get("properties").concat([created]) });
      }
    }

    // --- building the form ----------------------------------------------------------------------------------
    function el(tag, attrs, text) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
      if (text !== undefined) { node.textContent = text; }
      return node;
    }

    function field(label, control, help) {
      var id = "propriete-" + (++counter);
      var wrap = el("div", { "class": "field" });
      control.id = id;
      wrap.appendChild(el("label", { "for": id }, label));
      if (help) {
        control.setAttribute("aria-describedby", id + "-aide");
        wrap.appendChild(el("p", { "class": "help", id: id + "-aide" }, help));
      }
      wrap.appendChild(control);
      container.appendChild(wrap);
      return control;
    }

    function text(label, value, onChange, help, multiline) {
      var control = el(multiline ? "textarea" : "input", multiline ? { rows: "4" } : { type: "text" });
      control.value = value || "";
      control.addEventListener("change", function () { onChange(control.value.trim(), control); });
      return field(label, control, help);
    }

    function choice(label, options, value, onChange, help) {
      var control = el("select");
      var known = options.slice();
      if (value && known.indexOf(value) < 0) { known.unshift(value); }
      control.appendChild(el("option", { value: "" }, "— aucun —"));
      known.forEach(function (option) {
        var opt = el("option", { value: option }, option);
        if (option === value) { opt.selected = true; }
        control.appendChild(opt);
      });
      control.addEventListener("change", function () { onChange(control.value); });
      return field(label, control, help);
    }

    function note(message, className) {
      container.appendChild(el("p", { "class": className || "muted" }, message));
    }

    function heading(title) {
      container.appendChild(el("h3", {}, title));
    }

    // --- one section per kind of element --------------------------------------------------------------------
    function userTask(element, bo) {
      heading("Tâche utilisateur");
      var schema = property(bo, "formJsonSchemaFilename");
      var ui = property(bo, "formUiSchemaFilename");
      choice("Formulaire (schéma)", data.schemas, schema && schema.value,
             function (v) { setProperty(element, bo, "formJsonSchemaFilename", v); });
      choice("Affichage du formulaire (uischema)", data.uischemas, ui && ui.value,
             function (v) { setProperty(element, bo, "formUiSchemaFilename", v); render(element); });
      var variable = child(bo, "VariableName");
      text("Variable du formulaire", variable && variable.value,
           function (v) { setBody(element, bo, "VariableName", v); },
           "Les réponses sont rangées sous ce nom (par exemple project).");
      var instructions = child(bo, "InstructionsForEndUser");
      text("Consignes", instructions && instructions.value,
           function (v) { setBody(element, bo, "InstructionsForEndUser", v); },
           "Affichées au-dessus du formulaire ; {{ variable }} y insère une donnée.", true);
      var dueIn = property(bo, "dueIn");
      text("Échéance (durée ISO)", dueIn && dueIn.value, function (v, control) {
        if (v && !DURATION.test(v)) {
          control.setAttribute("aria-invalid", "true");
          return;
        }
        control.removeAttribute("aria-invalid");
        setProperty(element, bo, "dueIn", v);
      }, "Par exemple P15D (15 jours), P3W (3 semaines), P1M (1 mois).");
      var dueFrom = property(bo, "dueFrom");
      text("Échéance comptée à partir de", dueFrom && dueFrom.value,
           function (v) { setProperty(element, bo, "dueFrom", v); },
           "Une date des données (par exemple volunteer.start_date) ; sans elle, à partir de l'ouverture de la tâche.");
      var waiting = property(bo, "waitingLabel");
      text("Libellé de l'attente", waiting && waiting.value,
           function (v) { setProperty(element, bo, "waitingLabel", v); });
      var context = ui && data.contexts[ui.value];
      if (context) {
        heading("Contexte affiché avec la tâche (lecture seule)");
        container.appendChild(el("pre", { "class": "context-json" }, JSON.stringify(context, null, 2)));
        var link = el("a", { href: data.form_url.replace("NAME", (schema && schema.value) ||
                                                                   ui.value.replace(".uischema.", ".schema.")) },
                      "Modifier le formulaire");
        container.appendChild(link);
      }
    }

    function serviceTask(element, bo) {
      heading("Tâche de service");
      var operator = child(bo, "ServiceTaskOperator");
      var names = handlers.map(function (h) { return h.name; });
      choice("Gestionnaire (handler)", names, operator && operator.id, function (v) {
        if (operator && v) {
          modeling.updateModdleProperties(element, operator, { id: v });
        } else if (operator) {
          removeChild(element, bo, operator);
        } else if (v) {
          addChild(element, bo, moddle.create(SPIFF + "ServiceTaskOperator", {
            id: v, parameters: moddle.create(SPIFF + "Parameters", { parameters: [] })
          }));
        }
        render(element);
      });
      if (!operator) { return; }
      var handler = handlers.filter(function (h) { return h.name === operator.id; })[0];
      if (handler) { note(handler.summary); }
      text("Variable du résultat", operator.resultVariable,
           function (v) { modeling.updateModdleProperties(element, operator, { resultVariable: v || undefined }); },
           handler && handler.result ? "Contient : " + handler.result : undefined);
      var list = operator.parameters || null;
      var given = list ? list.get("parameters") : [];
      var expected = handler ? handler.parameters : [];
      var names2 = expected.map(function (p) { return p.name; });
      given.forEach(function (p) { if (names2.indexOf(p.id) < 0) { names2.push(p.id); } });
      heading("Paramètres (expressions Python sur les données)");
      names2.forEach(function (name) {
        var described = expected.filter(function (p) { return p.name === name; })[0];
        var current = given.filter(function (p) { return p.id === name; })[0];
        var label = name + (described && described.required ? " (obligatoire)" : "") + (described ? "" : " (inconnu)");
        text(label, current && current.value, function (v) {
          setParameter(element, operator, name, v, described ? described.type : "str");
        }, described ? described.description + " — type " + described.type : "Ce gestionnaire ne connaît pas ce paramètre.");
      });
    }

    function setParameter(element, operator, name, value, type) {
      var list = operator.parameters;
      if (!list) {
        list = moddle.create(SPIFF + "Parameters", { parameters: [] });
        list.$parent = operator;
        modeling.updateModdleProperties(element, operator, { parameters: list });
      }
      var params = list.get("parameters");
      var existing = params.filter(function (p) { return p.id === name; })[0];
      if (existing && value) {
        modeling.updateModdleProperties(element, existing, { value: value });
      } else if (existing) {
        modeling.updateModdleProperties(element, list, { parameters: params.filter(function (p) { return p !== existing; }) });
      } else if (value) {
        var created = moddle.create(SPIFF + "Parameter", { id: name, type: TYPES.indexOf(type) >= 0 ? type : "str",
                                                           value: value });
        created.$parent = list;
        modeling.updateModdleProperties(element, list, { parameters: params.concat([created]) });
      }
    }

    function businessRuleTask(element, bo) {
      heading("Tâche de règle métier");
      var decision = child(bo, "CalledDecisionId");
      choice("Décision (table DMN)", data.decisions, decision && decision.value,
             function (v) { setBody(element, bo, "CalledDecisionId", v); });
    }

    function lane(element, bo) {
      heading("Couloir");
      choice("Rôle", data.lane_roles, bo.id, function (v) {
        if (!v || v === bo.id) { return; }
        if (registry.get(v)) {
          note("Un autre élément porte déjà l'identifiant « " + v + " ».", "flash flash-error");
          return;
        }
        modeling.updateProperties(element, { id: v });
        render(element);
      }, "L'identifiant du couloir est le rôle qui reçoit ses tâches.");
    }

    function processSection(element, bo) {
      heading("Catalogue du processus " + (bo.name || bo.id));
      var startable = property(bo, "startableBy");
      var chosen = startable ? startable.value.split(",").map(function (r) { return r.trim(); }) : [];
      var group = el("fieldset", { "class": "roles" });
      group.appendChild(el("legend", {}, "Démarré par (rôles)"));
      data.start_roles.forEach(function (role) {
        var id = "propriete-" + (++counter);
        var box = el("input", { type: "checkbox", id: id, value: role });
        box.checked = chosen.indexOf(role) >= 0;
        box.addEventListener("change", function () {
          var roles = Array.prototype.filter.call(group.querySelectorAll("input:checked"), function () { return true; })
            .map(function (b) { return b.value; });
          setProperty(element, bo, "startableBy", roles.join(","));
        });
        var line = el("div", { "class": "choice" });
        line.appendChild(box);
        line.appendChild(el("label", { "for": id }, role));
        group.appendChild(line);
      });
      container.appendChild(group);
      var subject = property(bo, "subject");
      choice("Sujet d'un dossier", data.subjects, subject && subject.value,
             function (v) { setProperty(element, bo, "subject", v); });
      var campaign = property(bo, "campaign");
      choice("Lié à une campagne", data.booleans, campaign && campaign.value,
             function (v) { setProperty(element, bo, "campaign", v); });
      var label = property(bo, "startLabel");
      text("Libellé du bouton de démarrage", label && label.value,
           function (v) { setProperty(element, bo, "startLabel", v); });
    }

    // --- rendering the selection ----------------------------------------------------------------------------
    function render(element) {
      container.textContent = "";
      var root = canvas.getRootElement();
      element = element || root;
      var bo = element.businessObject;
      container.appendChild(el("p", { "class": "muted" }, "Identifiant : " + bo.id + " (" + bo.$type.replace("bpmn:", "") + ")"));
      if (element !== root && element.type !== "label" && bo.$type !== "bpmn:Lane") {
        text("Libellé", bo.name, function (v) { modeling.updateLabel(element, v); });
      }
      if (bo.$type === "bpmn:UserTask") {
        userTask(element, bo);
      } else if (bo.$type === "bpmn:ServiceTask") {
        serviceTask(element, bo);
      } else if (bo.$type === "bpmn:BusinessRuleTask") {
        businessRuleTask(element, bo);
      } else if (bo.$type === "bpmn:Lane") {
        text("Libellé", bo.name, function (v) { modeling.updateLabel(element, v); });
        lane(element, bo);
      } else if (bo.$type === "bpmn:Participant" && bo.processRef) {
        processSection(element, bo.processRef);
      } else if (bo.$type === "bpmn:Process") {
        processSection(element, bo);
      } else if (bo.$type === "bpmn:Collaboration") {
        var participants = (bo.participants || []).filter(function (p) { return p.processRef; });
        if (participants.length) { processSection(registry.get(participants[0].id) || element, participants[0].processRef); }
      }
      container.dataset.element = bo.id;
    }

    modeler.on("selection.changed", function (event) {
      render(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    return { render: render };
  };
}());
