// The ward doctor's page: prescribe for an inpatient with the ward and a priority; the pharmacy's queue gets it.
(function () {
  "use strict";
  var handle = null;
  var form = document.getElementById("ward-choice");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (handle) handle.destroy();
    var values = new FormData(form);
    handle = His.mount({ widget: "prescription", market: "v1", patient: values.get("patient"),
                         ward: values.get("ward"), priority: values.get("priority"), locale: values.get("locale") },
                       { onSuccess: function (outcome) {
                         document.getElementById("last-prescription").textContent = form.getAttribute("data-issued")
                           .replace("{code}", outcome.prescription_code).replace("{id}", outcome.prescription_id);
                       }, autofocus: true });
  });
})();
