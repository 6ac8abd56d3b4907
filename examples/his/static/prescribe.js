// The doctor's page: prescribe for the patient chosen, then offer to dispense the prescription at the pharmacy.
(function () {
  "use strict";
  var handle = null;
  var form = document.getElementById("choice");

  function showPrescription(outcome) {
    document.getElementById("last-prescription").textContent = form.getAttribute("data-issued")
      .replace("{code}", outcome.prescription_code).replace("{id}", outcome.prescription_id);
    var link = document.getElementById("dispense-now");
    var url = new URL(link.href);
    url.searchParams.set("code", outcome.prescription_code);
    link.href = url.toString();
    link.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (handle) handle.destroy();
    var values = new FormData(form);
    handle = His.mount({ widget: "prescription", patient: values.get("patient"), market: values.get("market"),
                         locale: values.get("locale") }, { onSuccess: showPrescription, autofocus: true });
  });
})();
