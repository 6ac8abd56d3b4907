// The hospital pharmacist's page: the dispensing widget in queue mode, mounted as the page opens.
(function () {
  "use strict";
  var page = document.getElementById("worklist");

  His.mount({ widget: "dispensing", mode: "queue", locale: page.getAttribute("data-locale") }, {
    // A completed entry whose code Osigu redeemed: the dispensing outcome, as at the counter.
    onSuccess: function (outcome) {
      document.getElementById("last-dispensation").textContent = page.getAttribute("data-completed")
        .replace("{code}", outcome.code).replace("{id}", outcome.dispensation_id);
    }
  });
})();
