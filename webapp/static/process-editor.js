// The save bar of the editors (BPMN, DMN, forms): « Enregistrer » sends the edited files to be staged and lists
// the validator's problems, « Lancer les scénarios » plays the scenarios on the staged files, « Préparer le
// déploiement » leads to the review page. Each editor registers itself with `ScEditor.register({files, highlight})`:
// `files()` resolves to {filename: text}; `highlight(problems)` marks the elements concerned.
(function () {
  "use strict";

  var root = document.getElementById("editeur");
  var editor = null;
  var data = root ? JSON.parse(root.dataset.editor) : {};
  var staged = data.staged;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // JSON to a route of the editor, with the CSRF token in the header Flask-WTF reads.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("application/json") === 0 ? response.json() : response.text();
      return read.then(function (payload) { return { ok: response.ok, status: response.status, body: payload }; });
    });
  }

  function bar(selector) {
    return document.querySelector(".editor-bar " + selector);
  }

  function say(message) {
    bar("[data-save-status]").textContent = message;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showProblems(problems) {
    var box = bar("[data-problems]");
    box.textContent = "";
    if (!problems.length) {
      box.appendChild(element("p", "flash flash-success", "Aucun problème : les fichiers peuvent être déployés."));
      return;
    }
    var errors = problems.filter(function (p) { return p.error; }).length;
    box.appendChild(element("h3", "", errors ? errors + (errors > 1 ? " erreurs" : " erreur") + " à corriger"
                                             : "Avertissements (le déploiement reste possible)"));
    var list = element("ul", "problem-list");
    problems.forEach(function (problem) {
      var item = element("li", problem.error ? "problem-error" : "problem-warning");
      item.appendChild(element("strong", "", (problem.error ? "Erreur" : "Avertissement") + " — " + problem.file));
      item.appendChild(document.createTextNode(" : " + (problem.element ? problem.element + " : " : "") +
                                               problem.message));
      if (problem.element_id) { item.dataset.elementId = problem.element_id; }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function showStaged(state) {
    staged = state;
    var prepare = bar("[data-prepare]");
    prepare.href = state.review_url;
    prepare.hidden = false;
    bar("[data-scenarios]").disabled = state.status === "invalid";
    say("Envoi n° " + state.id + " enregistré : " + state.status_label.toLowerCase() + ". Fichiers : " +
        state.files.join(", ") + ".");
    showProblems(state.problems);
    if (editor && editor.highlight) {
      editor.highlight(state.problems.filter(function (p) { return p.file === data.name && p.element_id; }));
    }
    // Reloading the page continues from this staged deployment.
    var url = new URL(window.location.href);
    url.searchParams.set("envoi", String(state.id));
    window.history.replaceState(null, "", url.toString());
    root.dataset.saved = String(state.id);
  }

  function save() {
    var button = bar("[data-save]");
    button.disabled = true;
    say("Vérification en cours…");
    return editor.files().then(function (files) {
      return post(data.save_url, { files: files, envoi: staged && staged.status !== "deployed" ? staged.id : null });
    }).then(function (answer) {
      if (answer.body && answer.body.id) {
        showStaged(answer.body);
      } else {
        say((answer.body && answer.body.message) || "L'enregistrement a échoué (" + answer.status + ").");
      }
    }).catch(function (error) {
      say("L'enregistrement a échoué : " + error.message);
    }).then(function () { button.disabled = false; });
  }

  function outcomeList(outcomes) {
    var list = element("ul", "scenario-list");
    outcomes.forEach(function (outcome) {
      var item = element("li", outcome.passed ? "scenario-pass" : "scenario-fail");
      item.appendChild(element("strong", "", outcome.passed ? "Réussi" : "Échec"));
      item.appendChild(document.createTextNode(" — " + outcome.name + " (" + outcome.file + ")" +
                                               (outcome.passed ? "" : " : " + outcome.explanation)));
      list.appendChild(item);
    });
    return list;
  }

  function passedCount(outcomes) {
    return outcomes.filter(function (outcome) { return outcome.passed; }).length;
  }

  function groupTitle(label, outcomes) {
    var passed = passedCount(outcomes);
    return label + " : " + passed + " réussi" + (passed > 1 ? "s" : "") + " sur " + outcomes.length;
  }

  // The outcomes of a run, those of the processes the upload changed first (played first), then the others.
  function outcomeGroups(result) {
    var node = element("div", "scenario-groups");
    var first = result.outcomes.slice(0, result.first);
    var others = result.outcomes.slice(result.first);
    if (result.first) {
      node.appendChild(element("h4", "", groupTitle("Processus modifiés (" + result.processes.join(", ") +
                                                    "), joués d'abord", first)));
      node.appendChild(outcomeList(first));
      if (others.length) { node.appendChild(element("h4", "", groupTitle("Autres scénarios", others))); }
    }
    if (others.length) { node.appendChild(outcomeList(others)); }
    return node;
  }

  function showOutcomes(box, result) {
    box.appendChild(element("h3", "", "Scénarios : " + result.passed + " réussi" + (result.passed > 1 ? "s" : "") +
                                      " sur " + result.outcomes.length));
    box.appendChild(outcomeGroups(result));
  }

  // The scenarios play in the background: ask where they stand until they end (« Scénario 7 sur 18 : … »).
  function follow(url, box, progress, message) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (run) {
        if (run.status === "running") {
          progress.max = run.total || 1;
          progress.value = run.done;
          message.textContent = run.message;
          // The outcomes so far (those of the changed processes come first), under the progress bar.
          var partial = box.querySelector(".scenario-groups");
          if (partial) { box.removeChild(partial); }
          if (run.outcomes.length) { box.appendChild(outcomeGroups(run)); }
          return new Promise(function (resolve) { window.setTimeout(resolve, 1000); })
            .then(function () { return follow(url, box, progress, message); });
        }
        box.textContent = "";
        if (run.status === "failed") {
          box.appendChild(element("p", "flash flash-error", run.message));
        } else {
          showOutcomes(box, run);
        }
        box.dataset.done = "true";
      });
  }

  function runScenarios() {
    var button = bar("[data-scenarios]");
    var box = bar("[data-scenario-results]");
    button.disabled = true;
    box.textContent = "";
    delete box.dataset.done;
    var line = element("p", "muted");
    var progress = element("progress");
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute("aria-label", "Avancement des scénarios");
    var message = element("span", "", " Lancement des scénarios sur les fichiers enregistrés…");
    line.appendChild(progress);
    line.appendChild(document.createTextNode(" "));
    line.appendChild(message);
    box.appendChild(line);
    post(staged.scenarios_url).then(function (answer) {
      if (!answer.ok) {
        box.textContent = "";
        box.appendChild(element("p", "flash flash-error", (answer.body && answer.body.message) ||
                                                          "Les scénarios n'ont pas pu être lancés."));
        return null;
      }
      message.textContent = answer.body.message;
      return follow(answer.body.status_url, box, progress, message);
    }).catch(function (error) {
      box.textContent = "Les scénarios n'ont pas pu être suivis : " + error.message;
    }).then(function () { button.disabled = false; });
  }

  window.ScEditor = {
    data: data,
    post: post,
    element: element,
    // Says on the page that the editor could not open (its library missing, a file it cannot read).
    fail: function (message) {
      var note = document.querySelector("#editeur .diagram-error");
      note.textContent = message;
      note.hidden = false;
      document.getElementById("editeur").dataset.failed = "true";
    },
    // Called by the editor of the page once its content is loaded.
    register: function (api) {
      editor = api;
      bar("[data-save]").addEventListener("click", save);
      bar("[data-scenarios]").addEventListener("click", runScenarios);
      if (staged) { showStaged(staged); }
      root.dataset.ready = "true";
    }
  };
}());
