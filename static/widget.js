/* The widget side of the bridge: talks only to the host origin that frames it, on its channel. */
(function () {
  "use strict";

  var PROTOCOL = 1;
  var SESSION_HEADER = "X-Osigu-Session";
  var PREVIOUS_SESSION_HEADER = "X-Osigu-Previous-Session";
  var EXPIRES_HEADER = "X-Osigu-Session-Expires-In";
  var timeZone = (function () {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (ignored) { return ""; }
  }());
  var body = document.body;
  var failure = document.getElementById("widget-failure");
  var hostOrigin = body.dataset.hostOrigin;
  var channel = body.dataset.channel;
  var widget = body.dataset.widget;
  var token = null; // in memory only: never in a URL, a cookie or storage
  var previousToken = null; // the expired token, sent until the renewed session has proved it continues its work
  var started = false;
  var lastHeight = -1;
  var retryAfterRenewal = null; // the request the expired session refused, sent again with the new token
  var renewBy = null; // on this page's clock: past it, a request waits for a renewed session instead of a 401
  var heldForRenewal = []; // those requests, sent once the new token arrives
  var renewalAskedAt = 0;
  var currentStep = null;
  // The documented theme variables and the values each accepts; anything else is ignored.
  var THEME = {
    primary_color: ["--osigu-primary", /^#[0-9a-fA-F]{6}$/],
    text_color: ["--osigu-text", /^#[0-9a-fA-F]{6}$/],
    background_color: ["--osigu-background", /^#[0-9a-fA-F]{6}$/],
    font_family: ["--osigu-font", /^[A-Za-z0-9 ,'-]{1,100}$/],
    radius: ["--osigu-radius", /^\d{1,2}(px|rem)$/]
  };

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

  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  function applyTheme(theme) {
    if (!theme || typeof theme !== "object") return;
    Object.keys(THEME).forEach(function (name) {
      var value = theme[name];
      if (typeof value === "string" && THEME[name][1].test(value)) {
        document.documentElement.style.setProperty(THEME[name][0], value);
      }
    });
  }

  function start() {
    htmx.ajax("GET", body.dataset.startUrl, { target: "#widget", swap: "innerHTML" });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    var message = event.data;
    if (!message || message.osigu !== PROTOCOL || message.channel !== channel) return;
    if ((message.type === "init" || message.type === "token") && message.data && message.data.token) {
      if (message.type === "token" && token) {
        previousToken = typeof message.data.previous === "string" ? message.data.previous : token;
      }
      token = String(message.data.token);
      if (message.type === "init") {
        applyTheme(message.data.theme); // the session's own theme, when its first step arrives, wins
        start();
      } else {
        renewBy = null;
        var held = heldForRenewal;
        heldForRenewal = [];
        held.forEach(function (issueRequest) { issueRequest(true); });
        if (retryAfterRenewal) {
          var retry = retryAfterRenewal;
          retryAfterRenewal = null;
          htmx.ajax(retry.verb, retry.path, { source: retry.source, target: retry.target, values: retry.values });
        }
      }
    }
  });

  // Every request carries the session and the page's origin in headers.
  body.addEventListener("htmx:configRequest", function (event) {
    if (token) event.detail.headers[SESSION_HEADER] = token;
    if (previousToken) event.detail.headers[PREVIOUS_SESSION_HEADER] = previousToken;
    event.detail.headers["X-Osigu-Origin"] = hostOrigin;
    if (timeZone) event.detail.headers["X-Osigu-Timezone"] = timeZone;
  });

  // Renew a session about to run out before sending, rather than send what the BFF would refuse (and log).
  body.addEventListener("htmx:confirm", function (event) {
    if (renewBy === null || Date.now() < renewBy) return;
    event.preventDefault();
    heldForRenewal.push(event.detail.issueRequest);
    if (heldForRenewal.length === 1 || Date.now() - renewalAskedAt > 10000) {
      renewalAskedAt = Date.now();
      post("session_expired", {});
    }
  });

  body.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    // The BFF has linked a renewed session to the previous one once a request with both succeeded.
    if (event.detail.requestConfig.headers[PREVIOUS_SESSION_HEADER]) previousToken = null;
    // Each answer says how long the session lives without another request; renew a little ahead of that.
    var left = Number(event.detail.xhr.getResponseHeader(EXPIRES_HEADER));
    if (left > 0) renewBy = Date.now() + left * 1000 - Math.min(5000, left * 100);
  });

  // htmx events hold DOM nodes: copy plain fields before posting anything.
  body.addEventListener("htmx:afterSwap", function (event) {
    var step = document.querySelector("#widget [data-osigu-step]");
    if (!step || event.detail.target.id !== "widget") return;
    failure.hidden = true;
    try { applyTheme(JSON.parse(step.dataset.osiguTheme || "{}")); } catch (ignored) { /* no theme */ }
    if (!started) {
      started = true; // however the first step arrived (first try, or retried after a renewal)
      post("ready", {});
    }
    var name = step.dataset.osiguStep;
    // Keyboard and screen-reader users land on the new step's heading, or back on the field they were using.
    var focus = name !== currentStep && currentStep !== null ? step.querySelector("[data-osigu-heading]")
      : step.querySelector("[aria-invalid=true]") || step.querySelector("[data-osigu-focus]");
    if (focus && currentStep !== null) focus.focus();
    if (name !== currentStep) post("step", { step: name });
    currentStep = name;
  });

  // Outcomes the server announces in HX-Trigger: only their plain data crosses to the host.
  body.addEventListener("osigu:success", function (event) { post("success", event.detail.outcome); });
  body.addEventListener("osigu:exit", function (event) {
    post("exit", { reason: String(event.detail.reason), step: String(event.detail.step) });
  });
  body.addEventListener("osigu:error", function (event) { post("error", event.detail.error); });

  // A code copied from inside the iframe: the Clipboard API where the frame may use it, else a selected field.
  function copyBySelection(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.readOnly = true;
    field.style.position = "fixed"; // CSSOM, not a style attribute (the CSP allows none)
    field.style.opacity = "0";
    body.appendChild(field);
    field.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
    body.removeChild(field);
    return copied;
  }
  body.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-osigu-copy]");
    if (!button) return;
    var text = button.dataset.osiguCopy;
    var done = function () { button.textContent = button.dataset.osiguCopied || button.textContent; };
    var fallback = function () { if (copyBySelection(text)) done(); };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
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
    failure.textContent = failure.dataset.message;
    failure.hidden = false;
    post("error", { code: error.error_code || "HTTP_" + xhr.status, message: error.message || "",
                    retryable: !!error.retryable });
  });

  // A receipt's print button (data-osigu-print): no inline script under the page's CSP.
  body.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-osigu-print]")) window.print();
  });

  new ResizeObserver(reportHeight).observe(document.documentElement);
  post("hello", {});
})();
