// The pharmacist's page: dispense a code with the dispensing widget and this counter's fingerprint reader.
(function () {
  "use strict";
  var handle = null;
  var form = document.getElementById("dispense");

  // A stand-in for the reader's driver, which would return the device's fingerprint template. The simulator
  // never matches a reading whose bytes start with NO-MATCH (simulator/README.md): the checkbox asks for one.
  function readFingerprint() {
    var prefix = document.getElementById("no-match").checked ? "NO-MATCH " : "";
    return Promise.resolve({ modality: "FINGERPRINT", reading: btoa(prefix + "demo fingerprint " + Date.now()) });
  }

  function showDispensation(outcome) {
    var text = form.getAttribute("data-dispensed").replace("{id}", outcome.dispensation_id)
      .replace("{code}", outcome.code);
    if (outcome.claim_id) text += " " + form.getAttribute("data-claim").replace("{claim}", outcome.claim_id);
    document.getElementById("last-dispensation").textContent = text;
  }

  function dispense() {
    if (handle) handle.destroy();
    var values = new FormData(form);
    handle = His.mount({ widget: "dispensing", code: values.get("code").trim(), locale: values.get("locale") },
                       { onSuccess: showDispensation, onBiometricRequest: readFingerprint, autofocus: true });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    dispense();
  });

  document.getElementById("get-authorization").addEventListener("click", function () {
    var output = document.getElementById("authorization");
    output.textContent = "…";
    fetch("/demo-authorization", { method: "POST" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (body) {
        output.textContent = body.authorization_code;
        document.getElementById("code").value = body.authorization_code;
      })
      .catch(function () { output.textContent = form.getAttribute("data-authorization-failed"); });
  });

  // Sent here from the clinic with a prescription just issued: open it at once.
  if (document.getElementById("code").value) dispense();
})();
