// The admission desk's page: request Ana López's pre-authorization, then keep its codes as the sponsor decides.
(function () {
  "use strict";
  var handle = null;
  var form = document.getElementById("request");
  var table = document.getElementById("codes");
  var statuses = JSON.parse(table.getAttribute("data-statuses"));
  var requestId = null;
  var rows = {}; // by authorization code: a pended group's row changes when it is decided

  function statusText(status, reason) {
    return (statuses[status] || status) + (reason ? " (" + reason + ")" : "");
  }

  function showAuthorization(row, item) {
    row.setAttribute("data-status", item.status);
    row.cells[1].textContent = statusText(item.status, item.reason);
    row.cells[3].textContent = "";
    if (item.status !== "APPROVED") return;
    // An approved code is redeemed at the pharmacy: its page opens the dispensing widget with it.
    var link = document.createElement("a");
    var url = new URL(table.getAttribute("data-pharmacy"), window.location.href);
    url.searchParams.set("code", item.authorization_code);
    link.href = url.toString();
    link.textContent = table.getAttribute("data-dispense");
    row.cells[3].appendChild(link);
  }

  // The widget's outcome: one row per group (a rejected one has no code).
  function showOutcome(outcome) {
    requestId = outcome.preauthorization_id;
    document.getElementById("last-preauthorization").textContent = form.getAttribute("data-requested")
      .replace("{id}", outcome.preauthorization_id).replace("{status}", statusText(outcome.status));
    var body = table.tBodies[0];
    body.textContent = "";
    rows = {};
    outcome.authorizations.forEach(function (item) {
      var row = body.insertRow();
      [0, 1, 2, 3].forEach(function () { row.insertCell(); });
      row.cells[0].textContent = item.authorization_code || table.getAttribute("data-no-code");
      row.cells[2].textContent = item.product_codes.join(", ");
      if (item.authorization_code) rows[item.authorization_code] = row;
      showAuthorization(row, item);
    });
  }

  // A pended group decided: told by the widget while it is open, and by our back end's callback in any case.
  function decide(decision) {
    var row = rows[decision.authorization_code];
    if (row) showAuthorization(row, decision);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (handle) handle.destroy();
    handle = His.mount({ widget: "preauth", locale: new FormData(form).get("locale") }, {
      onSuccess: showOutcome,
      onEvent: function (type, data) { if (type === "authorization_decided") decide(data); }
    });
  });

  His.onCallback(function (item) {
    if (item.type === "widget.preauth.decided" && item.data.preauthorization_id === requestId) decide(item.data);
  });
})();
