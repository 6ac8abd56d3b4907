/* The EHR's side of SMART Web Messaging: drafts from the app's exact origin go to the scratchpad, each answered. */
(function () {
  "use strict";

  var appOrigin = document.body.dataset.appOrigin;
  var scratchpad = document.getElementById("scratchpad");
  var status = document.getElementById("app-status");
  var stored = 0;

  function answer(event, request, payload) {
    event.source.postMessage({ messageId: "ehr-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2),
                               responseToMessageId: request.messageId, payload: payload }, event.origin);
  }

  function describe(resource) {
    var concept = resource.medicationCodeableConcept || {};
    var coding = (concept.coding || [])[0] || {};
    return resource.resourceType + " " + (resource.status || "") + ": " + (coding.display || coding.code || "");
  }

  window.addEventListener("message", function (event) {
    var request = event.data;
    if (event.origin !== appOrigin || !request || typeof request.messageType !== "string") return;
    if (request.messageType === "scratchpad.create" && "refuseDrafts" in document.body.dataset) {
      answer(event, request, { status: "422 Unprocessable Entity",
                               outcome: { resourceType: "OperationOutcome",
                                          issue: [{ severity: "error", code: "business-rule",
                                                    diagnostics: "This chart is closed to new orders" }] } });
    } else if (request.messageType === "scratchpad.create" && request.payload && request.payload.resource) {
      stored += 1;
      var item = document.createElement("li");
      item.textContent = describe(request.payload.resource);
      item.dataset.resourceType = request.payload.resource.resourceType;
      scratchpad.appendChild(item);
      answer(event, request, { status: "201 Created", location: request.payload.resource.resourceType + "/draft-" + stored });
    } else if (request.messageType === "ui.done") {
      status.textContent = "The app is done.";
      status.dataset.done = "true";
      answer(event, request, { status: "200 OK" });
    } else {
      answer(event, request, { status: "400 Bad Request",
                               outcome: { resourceType: "OperationOutcome",
                                          issue: [{ severity: "error", code: "not-supported",
                                                    diagnostics: request.messageType + " is not supported" }] } });
    }
  });
})();
