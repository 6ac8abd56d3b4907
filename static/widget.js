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
  var announcer = document.getElementById("widget-announcer");
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
  var hostHasReader = false; // the host passed onBiometricRequest to mount()
  var awaitingHost = null; // the biometric form whose reading the host's reader is taking
  var MODALITIES = ["FINGERPRINT", "FACE"];
  var BASE64 = /^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=)?$/;
  var PHOTO_WIDTH = 640;
  var CAMERA_SETTLE_MS = 1200; // the preview runs this long so exposure and focus settle before the photo
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

  function takeToken(data) {
    if (typeof data.token !== "string" || !data.token) return false;
    token = data.token;
    return true;
  }

  // What the host sends, by type; anything else is ignored.
  var hostHandlers = {
    init: function (data) {
      if (!takeToken(data)) return;
      hostHasReader = Array.isArray(data.capabilities) && data.capabilities.indexOf("biometric") >= 0;
      applyTheme(data.theme); // the session's own theme, when its first step arrives, wins
      start();
    },
    token: function (data) {
      var expired = token;
      if (!takeToken(data)) return;
      if (expired) previousToken = typeof data.previous === "string" ? data.previous : expired;
      renewBy = null;
      var held = heldForRenewal;
      heldForRenewal = [];
      held.forEach(function (issueRequest) { issueRequest(true); });
      if (retryAfterRenewal) {
        var retry = retryAfterRenewal;
        retryAfterRenewal = null;
        htmx.ajax(retry.verb, retry.path, { source: retry.source, target: retry.target, values: retry.values });
      }
    },
    biometric: function (data) { takeHostReading(data); }
  };

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    var message = event.data;
    if (!message || message.osigu !== PROTOCOL || message.channel !== channel) return;
    if (!Object.prototype.hasOwnProperty.call(hostHandlers, message.type)) return;
    hostHandlers[message.type](message.data && typeof message.data === "object" ? message.data : {});
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
    var heading = step.querySelector("[data-osigu-heading]");
    // A new step is announced (its heading, in the live region) while focus goes where typing starts: the field
    // to fix, else the step's first field, else the heading. The first step leaves the host page's focus alone,
    // unless that field is a scan field (data-osigu-scan): a counter's scanner types wherever the focus is.
    if (name !== currentStep && heading) announcer.textContent = heading.textContent;
    var focus = step.querySelector("[aria-invalid=true]") || step.querySelector("[data-osigu-focus]") ||
      (name !== currentStep ? heading : null);
    var scan = focus && focus.hasAttribute("data-osigu-scan");
    if (focus && (currentStep !== null || scan)) focus.focus();
    if (scan) focus.select(); // the next scan replaces what a refused one left
    if (name !== currentStep) post("step", { step: name });
    currentStep = name;
  });

  // A key can come before htmx has wired a step it just swapped in: wire the button first (htmx skips it if done).
  function press(button) {
    window.htmx.process(button);
    button.click();
  }

  // Enter in a search picks its result when there is exactly one (once the results for what was typed are in).
  var pickSingle = null;
  body.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
    var step = field.closest && field.closest("[data-osigu-step]");
    if (!step || !/^(SELECT|INPUT)$/.test(field.tagName)) return;
    if ((field.type === "search" || field.hasAttribute("data-osigu-scan")) && field.value.trim() === "") {
      // An empty search (or scan field) is the step's last field once its choices are made: Enter goes on.
      var onward = Array.prototype.filter.call(step.querySelectorAll("[data-osigu-primary]"),
        function (button) { return !field.form || !field.form.contains(button); })[0];
      if (onward && !onward.disabled) { event.preventDefault(); press(onward); }
      return;
    }
    if (field.type === "search") {
      pickSingle = (field.form.getAttribute("hx-target") || "").slice(1); // the form submits: the search runs
      return;
    }
    // Enter on a step's last field (one the browser would not submit from: a list, a box) does its forward action.
    var scope = field.form || step;
    var primary = scope.querySelector("[data-osigu-primary]");
    var fields = scope.querySelectorAll("input:not([type=hidden]), select");
    if (!primary || primary.disabled || fields[fields.length - 1] !== field) return;
    event.preventDefault();
    press(primary);
  });
  body.addEventListener("htmx:afterSettle", function (event) { // settled: htmx has wired the new buttons
    if (!pickSingle || event.detail.target.id !== pickSingle) return;
    pickSingle = null;
    var items = event.detail.target.querySelectorAll(".osigu-results > li");
    var buttons = items.length === 1 ? items[0].querySelectorAll("button:not([disabled])") : [];
    if (buttons.length === 1) buttons[0].click();
  });

  // Outcomes the server announces in HX-Trigger: only their plain data crosses to the host.
  body.addEventListener("osigu:success", function (event) {
    post("success", event.detail.outcome);
    if (smartHandle) tellEhr(event.detail.outcome);
  });
  body.addEventListener("osigu:exit", function (event) {
    post("exit", { reason: String(event.detail.reason), step: String(event.detail.step) });
  });
  body.addEventListener("osigu:error", function (event) { post("error", event.detail.error); });
  // One poll may bring several pended groups' decisions: the host hears each as its own message.
  body.addEventListener("osigu:authorization_decided", function (event) {
    (event.detail.decisions || []).forEach(function (decision) {
      var data = { authorization_code: String(decision.authorization_code), status: String(decision.status) };
      if (decision.reason) data.reason = String(decision.reason);
      post("authorization_decided", data);
    });
  });

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

  // Biometric readings, for the verification component's [data-osigu-biometric] form: from the host's reader,
  // the camera or an image file. The reading goes into the form and to the BFF only: never logged, never kept.
  function biometricError(form, reason) {
    var error = form.querySelector("[data-osigu-biometric-error]");
    if (!error) return;
    // The server renders every text in the user's language; a missing one falls back to the shell's own.
    error.textContent = reason ? error.dataset[reason] || failure.dataset.message : "";
  }

  function decodedBytes(base64) {
    return Math.floor(base64.length / 4) * 3 - (base64.match(/=*$/)[0].length);
  }

  function submitReading(form, modality, reading) {
    if (!document.body.contains(form)) return; // the step moved on meanwhile
    if (!reading || !BASE64.test(reading)) {
      biometricError(form, "hostFailed");
      return;
    }
    if (decodedBytes(reading) > (Number(form.dataset.osiguBiometricMaxBytes) || Infinity)) {
      biometricError(form, "tooLarge");
      return;
    }
    biometricError(form, null);
    form.elements.namedItem("modality").value = modality;
    form.elements.namedItem("reading").value = reading;
    htmx.trigger(form, "submit");
  }

  function askHost(button) {
    if (awaitingHost) return; // one reading at a time
    var form = button.closest("[data-osigu-biometric]");
    awaitingHost = form;
    button.setAttribute("aria-busy", "true");
    biometricError(form, null);
    post("biometric_requested", { modality: form.elements.namedItem("modality").value });
  }

  function takeHostReading(data) {
    var form = awaitingHost;
    awaitingHost = null;
    if (!form) return;
    var button = form.querySelector("[data-osigu-biometric-host]");
    if (button) button.removeAttribute("aria-busy");
    if (data.error || typeof data.reading !== "string") {
      biometricError(form, "hostFailed");
      return;
    }
    var modality = MODALITIES.indexOf(data.modality) >= 0 ? data.modality : form.elements.namedItem("modality").value;
    submitReading(form, modality, data.reading);
  }

  // One press takes one photo: the preview shows while the camera settles, then a frame is kept and the camera stops.
  function takePhoto(button) {
    var form = button.closest("[data-osigu-biometric]");
    var video = form.querySelector("[data-osigu-biometric-video]");
    var media = navigator.mediaDevices;
    if (!video || !media || typeof media.getUserMedia !== "function") {
      biometricError(form, "noCamera");
      return;
    }
    if (video.srcObject) return; // a photo is being taken
    biometricError(form, null);
    media.getUserMedia({ video: { facingMode: "user" }, audio: false }).then(function (stream) {
      video.muted = true;
      video.playsInline = true;
      video.srcObject = stream;
      video.hidden = false;
      return video.play()
        .then(function () { return new Promise(function (resolve) { window.setTimeout(resolve, CAMERA_SETTLE_MS); }); })
        .then(function () {
          if (!video.videoWidth) throw new Error("no picture");
          // A face match needs no more than VGA; a larger frame would only cost bytes against the size limit.
          var scale = Math.min(1, PHOTO_WIDTH / video.videoWidth);
          var canvas = document.createElement("canvas");
          canvas.width = Math.round(video.videoWidth * scale);
          canvas.height = Math.round(video.videoHeight * scale);
          canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
          return canvas.toDataURL("image/jpeg", 0.85).split(",")[1];
        })
        .finally(function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          video.srcObject = null;
          video.hidden = true;
        });
    }).then(function (reading) { submitReading(form, "FACE", reading); },
            function () { biometricError(form, "noCamera"); });
  }

  function readFile(input) {
    var form = input.closest("[data-osigu-biometric]");
    var file = input.files && input.files[0];
    if (!file) return;
    if (file.size > (Number(form.dataset.osiguBiometricMaxBytes) || Infinity)) {
      input.value = "";
      biometricError(form, "tooLarge");
      return;
    }
    var reader = new FileReader();
    reader.addEventListener("load", function () {
      submitReading(form, form.elements.namedItem("modality").value, String(reader.result).split(",")[1] || "");
    });
    reader.addEventListener("error", function () { biometricError(form, "hostFailed"); });
    reader.readAsDataURL(file);
  }

  body.addEventListener("click", function (event) {
    var host = event.target.closest("[data-osigu-biometric] [data-osigu-biometric-host]");
    var camera = event.target.closest("[data-osigu-biometric] [data-osigu-biometric-camera]");
    if (host && hostHasReader) askHost(host);
    if (camera) takePhoto(camera);
  });
  body.addEventListener("change", function (event) {
    if (event.target.matches("[data-osigu-biometric] [data-osigu-biometric-file]")) readFile(event.target);
  });
  // The host's reader is offered only when the host has one; new content may carry the form.
  body.addEventListener("htmx:load", function () {
    if (!hostHasReader) return;
    document.querySelectorAll("[data-osigu-biometric-host]").forEach(function (button) { button.hidden = false; });
  });

  // A receipt's print button (data-osigu-print): no inline script under the page's CSP.
  body.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-osigu-print]")) window.print();
  });

  // SMART Web Messaging (a SMART launch with a messaging handle): the outcome's FHIR resources go to the EHR's
  // scratchpad, then ui.done once the EHR accepted them all; a refusal is shown, never swallowed. A resource
  // with an id is the EHR's own (a draft order a preauth authorized): an update; one without is a new draft.
  var smartHandle = body.dataset.smartHandle || "";
  var smartWaiting = {}; // messageId -> true, until the EHR answers it
  var smartSent = 0;

  function smartSend(messageType, payload) {
    smartSent += 1;
    var messageId = smartHandle.slice(0, 8) + "-" + Date.now().toString(36) + "-" + smartSent + "-" +
      Math.random().toString(36).slice(2);
    smartWaiting[messageId] = messageType;
    window.parent.postMessage({ messagingHandle: smartHandle, messageId: messageId, messageType: messageType,
                                payload: payload }, hostOrigin); // exact origin, never "*"
  }

  function tellEhr(outcome) {
    var resources = outcome && outcome.resourceType === "Bundle" ? (outcome.entry || []).map(function (entry) {
      return entry.resource;
    }) : [];
    if (!resources.length) { smartSend("ui.done", {}); return; }
    resources.forEach(function (resource) {
      smartSend(resource.id ? "scratchpad.update" : "scratchpad.create", { resource: resource });
    });
  }

  function smartRefused(payload) {
    var said = payload && payload.outcome && payload.outcome.issue && payload.outcome.issue[0];
    failure.textContent = failure.dataset.message + (said && said.diagnostics ? " (" + String(said.diagnostics) + ")" : "");
    failure.hidden = false;
  }

  window.addEventListener("message", function (event) {
    if (!smartHandle || event.source !== window.parent || event.origin !== hostOrigin) return;
    var reply = event.data;
    if (!reply || typeof reply.responseToMessageId !== "string" || !smartWaiting[reply.responseToMessageId]) return;
    var messageType = smartWaiting[reply.responseToMessageId];
    delete smartWaiting[reply.responseToMessageId];
    var status = String((reply.payload && reply.payload.status) || "");
    if (!/^2/.test(status) && messageType !== "ui.done") { smartRefused(reply.payload); return; }
    var pending = Object.keys(smartWaiting).filter(function (id) { return smartWaiting[id] !== "ui.done"; });
    if (messageType !== "ui.done" && !pending.length) smartSend("ui.done", {});
  });

  // A SMART launch: the BFF rendered the session into this page (no-store), so the widget starts at once.
  if (body.dataset.sessionToken) {
    token = body.dataset.sessionToken;
    body.removeAttribute("data-session-token");
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }

  new ResizeObserver(reportHeight).observe(document.documentElement);
  post("hello", {});
})();
