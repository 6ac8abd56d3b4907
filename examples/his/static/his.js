// What both HIS pages share: mounting a widget with a session from our back end, and showing what it reported.
(function () {
  "use strict";

  function showError(error) {
    var place = document.getElementById("widget-error");
    place.textContent = error.message + (error.retryable ? " " + place.getAttribute("data-try-again") : "");
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

  // The integration itself: our back end vouches for the user and asks the BFF for a session (called again if
  // it expires); the widget's outcome goes to the page's own handlers.
  function mount(choice, handlers) {
    document.getElementById("widget-error").textContent = "";
    var pageOnEvent = handlers.onEvent;
    var handle = OsiguWidgets.mount("#osigu", Object.assign({
      widget: choice.widget,
      locale: choice.locale,
      fetchToken: function () {
        return fetch("/widget-session", { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify(choice) })
          .then(function (response) { return response.json(); })
          .then(function (body) { return body.token; });
      },
      onExit: function () { handle.destroy(); },
      // Say what went wrong where the user looks (an unregistered origin, a session we could not get...).
      onError: function (error) { showError(error); }
    }, handlers, {
      // Every page logs what the widget says; a page's own onEvent hears it as well.
      onEvent: function (type, data) {
        log("events", type, data);
        if (pageOnEvent) pageOnEvent(type, data);
      }
    }));
    return handle;
  }

  // The language switch reloads the page in the language chosen.
  document.getElementById("locale").addEventListener("change", function (event) {
    event.target.form.submit();
  });

  // The back end's callbacks arrive server to server; the page just shows what it has heard.
  var shown = {};
  var callbackListeners = [];
  function refreshCallbacks() {
    fetch("/osigu/callbacks").then(function (response) { return response.json(); }).then(function (items) {
      items.slice().reverse().forEach(function (item) {
        if (shown[item.id]) return;
        shown[item.id] = true;
        log("callbacks", item.type, item.data);
        callbackListeners.forEach(function (listener) { listener(item); });
      });
    }).catch(function () { /* the next refresh tries again */ });
  }
  window.setInterval(refreshCallbacks, 2000);

  window.His = { mount: mount, onCallback: function (listener) { callbackListeners.push(listener); } };
})();
