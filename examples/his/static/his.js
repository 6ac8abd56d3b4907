// The example HIS page. The integration itself is prescribe(); the rest is this page's own UI.
(function () {
  "use strict";
  var handle = null;

  function prescribe(choice) {
    return OsiguWidgets.mount("#osigu", {
      widget: "prescription",
      locale: choice.locale,
      // Our back end vouches for the doctor and asks the BFF for a session; called again if it expires.
      fetchToken: function () {
        return fetch("/widget-session", { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify(choice) })
          .then(function (response) { return response.json(); })
          .then(function (body) { return body.token; });
      },
      onSuccess: function (outcome) { showPrescription(outcome); },
      onExit: function () { handle.destroy(); handle = null; },
      // Say what went wrong where the doctor looks (an unregistered origin, a session we could not get...).
      onError: function (error) { showError(error); },
      onEvent: function (type, data) { log("events", type, data); }
    });
  }

  function showError(error) {
    document.getElementById("widget-error").textContent = error.message + (error.retryable ? " Try again." : "");
  }

  function log(listId, type, data) {
    var item = document.createElement("li");
    var name = document.createElement("strong");
    name.textContent = type;
    item.appendChild(name);
    item.appendChild(document.createTextNode(" " + JSON.stringify(data || {})));
    var list = document.getElementById(listId);
    list.insertBefore(item, list.firstChild);
  }

  function showPrescription(outcome) {
    var template = document.getElementById("choice").getAttribute("data-issued");
    document.getElementById("last-prescription").textContent =
      template.replace("{code}", outcome.prescription_code).replace("{id}", outcome.prescription_id);
  }

  // The language switch reloads the page in the language chosen.
  document.getElementById("locale").addEventListener("change", function (event) {
    event.target.form.submit();
  });

  document.getElementById("choice").addEventListener("submit", function (event) {
    event.preventDefault();
    if (handle) handle.destroy();
    document.getElementById("widget-error").textContent = "";
    var form = new FormData(event.target);
    handle = prescribe({ patient: form.get("patient"), market: form.get("market"), locale: form.get("locale") });
  });

  // The back end's callbacks arrive server to server; the page just shows what it has heard.
  var shown = {};
  function refreshCallbacks() {
    fetch("/osigu/callbacks").then(function (response) { return response.json(); }).then(function (items) {
      items.slice().reverse().forEach(function (item) {
        if (shown[item.id]) return;
        shown[item.id] = true;
        log("callbacks", item.type, item.data);
      });
    }).catch(function () { /* the next refresh tries again */ });
  }
  window.setInterval(refreshCallbacks, 2000);
})();
