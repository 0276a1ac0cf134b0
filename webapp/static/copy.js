// "Copier" buttons: put the text of the element named by data-copy on the clipboard, and say so.
document.addEventListener("DOMContentLoaded", function () {
  var status = document.querySelector(".copy-status");

  function announce(message) {
    if (status) {
      status.textContent = message;
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done;
  }

  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) {
        return;
      }
      var text = source.textContent.trim();
      var label = button.textContent;
      function copied() {
        button.textContent = "Copié ✓";
        announce("Texte copié dans le presse-papiers.");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(copied, function () {
          if (fallbackCopy(text)) { copied(); } else { announce("Copie impossible : sélectionnez le texte à la main."); }
        });
      } else if (fallbackCopy(text)) {
        copied();
      } else {
        announce("Copie impossible : sélectionnez le texte à la main.");
      }
    });
  });
});
