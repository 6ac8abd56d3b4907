/* The widget side of the bridge: talks only to the host origin that frames it, on its channel. */
(function () {
  "use strict";

  var PROTOCOL = 1;
  var SESSION_HEADER = "X-Osigu-Session";
  var body = document.body;
  var hostOrigin = body.dataset.hostOrigin;
  var channel = body.dataset.channel;
  var widget = body.dataset.widget;
  var token = null; // in memory only: never in a URL, a cookie or storage
  var started = false;
  var lastHeight = -1;
  var retryAfterRenewal = null; // the request the expired session refused, sent again with the new token

  function post(type, data) {
    var message = { osigu: PROTOCOL, channel: channel, type: type, widget: widget, data: data || {} };
    window.parent.postMessage(message, hostOrigin); // exact origin, never "*"
  }

  function reportHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post("resize", { height: height });
    }
  }

  function start() {
    htmx.ajax("GET", body.dataset.startUrl, { target: "#widget", swap: "innerHTML" });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    var message = event.data;
    if (!message || message.osigu !== PROTOCOL || message.channel !== channel) return;
    if ((message.type === "init" || message.type === "token") && message.data && message.data.token) {
      token = String(message.data.token);
      if (message.type === "init") {
        start();
      } else if (retryAfterRenewal) {
        var retry = retryAfterRenewal;
        retryAfterRenewal = null;
        htmx.ajax(retry.verb, retry.path, { source: retry.source, target: retry.target, values: retry.values });
      }
    }
  });

  // Every request carries the session and the page's origin in headers.
  body.addEventListener("htmx:configRequest", function (event) {
    if (token) event.detail.headers[SESSION_HEADER] = token;
    event.detail.headers["X-Osigu-Origin"] = hostOrigin;
  });

  // htmx events hold DOM nodes: copy plain fields before posting anything.
  body.addEventListener("htmx:afterSwap", function () {
    var step = document.querySelector("#widget [data-osigu-step]");
    if (!step) return;
    if (!started) {
      started = true; // however the first step arrived (first try, or retried after a renewal)
      post("ready", {});
    }
    post("step", { step: step.dataset.osiguStep });
  });

  body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var error = {};
    try { error = JSON.parse(xhr.responseText); } catch (ignored) { error = {}; }
    if (xhr.status === 401 && error.error_code === "SESSION_EXPIRED") {
      var config = event.detail.requestConfig;
      retryAfterRenewal = { verb: config.verb, path: config.path, source: config.elt, target: event.detail.target,
                            values: config.parameters };
      post("session_expired", {});
      return;
    }
    post("error", { code: error.error_code || "HTTP_" + xhr.status, message: error.message || "",
                    retryable: !!error.retryable });
  });

  new ResizeObserver(reportHeight).observe(document.documentElement);
  post("hello", {});
})();
