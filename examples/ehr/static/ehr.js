/* The EHR's side of SMART Web Messaging: drafts from the app's exact origin go to the scratchpad, each answered;
   an update replaces a draft order the scratchpad holds and shows its authorization (CRD's satisfied-pa-id). */
(function () {
  "use strict";

  var appOrigin = document.body.dataset.appOrigin;
  var scratchpad = document.getElementById("scratchpad");
  var status = document.getElementById("app-status");
  var stored = 0;
  var CRD_COVERAGE = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information";

  function answer(event, request, payload) {
    event.source.postMessage({ messageId: "ehr-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2),
                               responseToMessageId: request.messageId, payload: payload }, event.origin);
  }

  function describe(resource) {
    var concept = resource.medicationCodeableConcept || resource.code || {};
    var coding = (concept.coding || [])[0] || {};
    return resource.resourceType + " " + (resource.status || "") + ": " + (coding.display || coding.code || "");
  }

  function authorization(resource) {
    var information = (resource.extension || []).filter(function (item) { return item.url === CRD_COVERAGE; })[0];
    var satisfied = ((information && information.extension) || []).filter(function (part) {
      return part.url === "satisfied-pa-id";
    })[0];
    return satisfied ? String(satisfied.valueString) : "";
  }

  function update(event, request) {
    var resource = request.payload.resource;
    var held = Array.prototype.filter.call(scratchpad.children, function (item) {
      return item.dataset.resourceType === resource.resourceType && item.dataset.id === String(resource.id);
    })[0];
    if (!held) {
      answer(event, request, { status: "404 Not Found",
                               outcome: { resourceType: "OperationOutcome",
                                          issue: [{ severity: "error", code: "not-found",
                                                    diagnostics: "No such draft order in this chart" }] } });
      return;
    }
    var authorized = authorization(resource);
    held.textContent = describe(resource) + (authorized ? " · authorization " + authorized : "");
    held.dataset.resource = JSON.stringify(resource); // the order as the chart now holds it
    if (authorized) held.dataset.authorization = authorized;
    answer(event, request, { status: "200 OK" });
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
    } else if (request.messageType === "scratchpad.update" && request.payload && request.payload.resource) {
      update(event, request);
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
