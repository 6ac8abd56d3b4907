/*! osigu-widgets embed.js — mounts an Osigu widget in an iframe and talks to it safely. MIT. */
(function (global) {
  "use strict";

  var PROTOCOL = 1;
  var WIDGETS = ["prescription", "dispensing", "preauth"];
  // The messages this side sends; the widget's are the keys of `handlers` in mount(). Named once, checked by a test.
  var HOST_TYPES = ["init", "token", "biometric"];
  // Only the widgets that may take a biometric reading in the browser get the camera (Permissions Policy).
  var CAMERA_WIDGETS = ["dispensing", "preauth"];
  var MODALITIES = ["FINGERPRINT", "FACE"];
  var BASE64 = /^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=)?$/;
  var DEFAULT_BIOMETRIC_TIMEOUT_MS = 60000;
  var DEFAULT_LOAD_TIMEOUT_MS = 15000;
  var MAX_HEIGHT = 10000;
  var LOCALES = ["es", "en", "pt"];
  var LOADING_TEXT = { es: "Cargando…", en: "Loading…", pt: "A carregar…" };
  var TITLES = {
    prescription: { es: "Receta electrónica de Osigu", en: "Osigu e-prescription", pt: "Receita eletrónica da Osigu" },
    dispensing: { es: "Dispensación de Osigu", en: "Osigu dispensing", pt: "Dispensa da Osigu" },
    preauth: { es: "Preautorización de Osigu", en: "Osigu pre-authorization", pt: "Pré-autorização da Osigu" }
  };
  // The BFF is wherever this script was loaded from, unless mount() is given a baseUrl.
  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, global.location.href).origin : null;

  function newChannel() {
    var bytes = new Uint8Array(16);
    global.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function resolveElement(target) {
    var element = typeof target === "string" ? document.querySelector(target) : target;
    if (!element || element.nodeType !== 1) {
      throw new Error("OsiguWidgets.mount: no element matches " + String(target));
    }
    return element;
  }

  function checkOptions(options) {
    if (!options || WIDGETS.indexOf(options.widget) < 0) {
      throw new Error("OsiguWidgets.mount: options.widget must be one of " + WIDGETS.join(", "));
    }
    if (!options.token && typeof options.fetchToken !== "function") {
      throw new Error("OsiguWidgets.mount: give options.token or options.fetchToken");
    }
    var base = options.baseUrl || scriptOrigin;
    if (!base) {
      throw new Error("OsiguWidgets.mount: cannot tell where the BFF is; pass options.baseUrl");
    }
    return new URL(base, global.location.href);
  }

  // Deny by default: a message counts only in our protocol, on our channel.
  function isEnvelope(message, channel) {
    return !!message && typeof message === "object" && message.osigu === PROTOCOL && message.channel === channel &&
      typeof message.type === "string";
  }

  function call(callback) {
    if (typeof callback !== "function") return;
    try {
      callback.apply(null, Array.prototype.slice.call(arguments, 1));
    } catch (error) {
      // A host callback that throws must not break the bridge; report it where the host will look.
      if (global.console) global.console.error("OsiguWidgets callback failed:", error);
    }
  }

  // Ask the BFF (public, no secret, one yes or no) whether this page's origin may frame widgets, so an
  // unregistered page hears it at once instead of waiting for the load timeout. Failures stay silent.
  function checkOrigin(bffOrigin, base, onUnregistered) {
    if (typeof global.fetch !== "function") return;
    var url = new URL(base.pathname.replace(/\/$/, "") + "/v1/origins/check", bffOrigin);
    url.searchParams.set("origin", global.location.origin);
    global.fetch(url.toString(), { credentials: "omit", referrerPolicy: "no-referrer" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && answer.registered === false) onUnregistered(); })
      .catch(function () { /* the load timeout still reports a widget that never became ready */ });
  }

  function mount(target, options) {
    var container = resolveElement(target);
    var base = checkOptions(options);
    var bffOrigin = base.origin;
    var locale = LOCALES.indexOf(options.locale) >= 0 ? options.locale : "es";
    var channel = newChannel();
    var destroyed = false;
    var ready = false;
    var currentHeight = 0;
    var token = options.token;
    // Focus moves into the widget only when the host asks, and only if the user has not moved it since mount().
    var focusedAtMount = document.activeElement;

    var placeholder = document.createElement("div");
    placeholder.setAttribute("role", "status");
    placeholder.className = "osigu-widget-placeholder";
    placeholder.textContent = LOADING_TEXT[locale];

    // The host origin and the channel travel in the URL (neither is a secret); the token never does.
    var src = new URL(base.pathname.replace(/\/$/, "") + "/widgets/" + options.widget + "/", bffOrigin);
    src.searchParams.set("origin", global.location.origin);
    src.searchParams.set("channel", channel);
    src.searchParams.set("locale", locale);

    var iframe = document.createElement("iframe");
    iframe.src = src.toString();
    iframe.title = TITLES[options.widget][locale];
    iframe.setAttribute("referrerpolicy", "no-referrer");
    iframe.setAttribute("allow", CAMERA_WIDGETS.indexOf(options.widget) >= 0 ? "camera" : "");
    iframe.style.cssText = "display:block;width:100%;border:0;height:0;";
    container.appendChild(placeholder);
    container.appendChild(iframe);

    function send(type, data) {
      if (destroyed || !iframe.contentWindow || HOST_TYPES.indexOf(type) < 0) return;
      var message = { osigu: PROTOCOL, channel: channel, type: type, widget: options.widget, data: data || {} };
      iframe.contentWindow.postMessage(message, bffOrigin); // exact origin, never "*"
    }

    function fail(code, message, retryable) {
      var error = { code: code, message: message, retryable: !!retryable };
      call(options.onError, error);
      call(options.onEvent, "error", error);
    }

    // What this host offers the widget beyond the protocol: today, a biometric reader of its own.
    var capabilities = typeof options.onBiometricRequest === "function" ? ["biometric"] : [];

    function autofocus() {
      var now = document.activeElement;
      return options.autofocus === true && (now === focusedAtMount || now === document.body || now === iframe);
    }

    function withToken(type) {
      if (token && type === "init") {
        send("init", { token: token, theme: options.theme || {}, locale: locale, capabilities: capabilities,
                       autofocus: autofocus() });
        return;
      }
      if (typeof options.fetchToken !== "function") {
        fail("SESSION_EXPIRED", "The widget session expired and no fetchToken was given.", false);
        return;
      }
      Promise.resolve()
        .then(function () { return options.fetchToken(); })
        .then(function (fresh) {
          if (!fresh) throw new Error("fetchToken returned no token");
          // The expired token goes along: its signature proves the new session may carry on the same work.
          var previous = token;
          token = fresh;
          send(type, { token: token, previous: previous || null, theme: options.theme || {}, locale: locale,
                       capabilities: capabilities, autofocus: autofocus() }); // init, when fetchToken gave the first
        })
        .catch(function (error) {
          fail("TOKEN_UNAVAILABLE", "fetchToken failed: " + (error && error.message), true);
        });
    }

    // The host's reader answers the widget's request; whatever goes wrong, the widget hears an answer it can show.
    function answerBiometric(data) {
      var modality = MODALITIES.indexOf(data.modality) >= 0 ? data.modality : null;
      if (!modality) return;
      var answered = false;
      function answer(body) {
        if (answered) return;
        answered = true;
        global.clearTimeout(timer);
        send("biometric", body);
      }
      function refuse(code, message) {
        if (answered || destroyed) return;
        answer({ modality: modality, error: { code: code } });
        fail(code, message, true);
      }
      var timer = global.setTimeout(function () {
        refuse("BIOMETRIC_TIMEOUT", "onBiometricRequest gave no reading in time.");
      }, options.biometricTimeoutMs || DEFAULT_BIOMETRIC_TIMEOUT_MS);
      if (typeof options.onBiometricRequest !== "function") {
        refuse("BIOMETRIC_UNAVAILABLE", "The widget asked for a biometric reading and no onBiometricRequest was given.");
        return;
      }
      Promise.resolve()
        .then(function () { return options.onBiometricRequest({ modality: modality }); })
        .then(function (result) {
          // The reading is passed on, never logged or kept; only its shape is checked here.
          var reading = result && typeof result.reading === "string" ? result.reading : "";
          var given = result && MODALITIES.indexOf(result.modality) >= 0 ? result.modality : modality;
          if (!reading || !BASE64.test(reading)) {
            refuse("BIOMETRIC_INVALID", "onBiometricRequest must resolve to {modality, reading} with a Base64 reading.");
            return;
          }
          answer({ modality: given, reading: reading });
        })
        .catch(function (error) {
          refuse("BIOMETRIC_UNAVAILABLE", "onBiometricRequest failed: " + (error && error.message));
        });
    }

    var handlers = {
      hello: function () { withToken("init"); },
      ready: function () {
        if (ready) return;
        ready = true;
        global.clearTimeout(loadTimer);
        if (placeholder.parentNode) placeholder.parentNode.removeChild(placeholder);
        call(options.onReady);
      },
      resize: function (data) {
        var height = Math.max(0, Math.min(MAX_HEIGHT, Math.ceil(Number(data.height) || 0)));
        if (height !== currentHeight) {
          currentHeight = height;
          iframe.style.height = height + "px";
        }
      },
      step: function () {}, // reaches the host through onEvent, like every message below
      success: function (data) { call(options.onSuccess, data); },
      exit: function (data) { call(options.onExit, data); },
      error: function (data) { call(options.onError, data); },
      session_expired: function () { withToken("token"); },
      biometric_requested: function (data) { answerBiometric(data); },
      authorization_decided: function () {} // a pended group decided while mounted: onEvent alone hears it
    };

    function onMessage(event) {
      // Deny by default: the BFF's origin, our own iframe, our protocol and our channel, or nothing.
      if (event.origin !== bffOrigin || event.source !== iframe.contentWindow) return;
      var message = event.data;
      if (!isEnvelope(message, channel) || !Object.prototype.hasOwnProperty.call(handlers, message.type)) return;
      var handler = handlers[message.type];
      var data = message.data && typeof message.data === "object" ? message.data : {};
      handler(data);
      if (message.type !== "hello" && message.type !== "resize") call(options.onEvent, message.type, data);
    }

    global.addEventListener("message", onMessage);
    checkOrigin(bffOrigin, base, function () {
      if (destroyed || ready) return;
      var message = "This page's origin, " + global.location.origin + ", is not registered with the Osigu BFF at " +
        bffOrigin + ". Add it to your host app's \"origins\" in BFF_HOST_APPS (with the demo: " +
        "osigu-widgets demo --allow-origin " + global.location.origin + ").";
      if (global.console) global.console.error("OsiguWidgets: " + message);
      global.clearTimeout(loadTimer);
      [placeholder, iframe].forEach(function (node) {
        if (node.parentNode) node.parentNode.removeChild(node);
      });
      fail("ORIGIN_NOT_REGISTERED", message, false);
    });
    var loadTimer = global.setTimeout(function () {
      if (!ready && !destroyed) fail("LOAD_TIMEOUT", "The widget did not become ready in time.", true);
    }, options.loadTimeoutMs || DEFAULT_LOAD_TIMEOUT_MS);

    return {
      destroy: function () {
        if (destroyed) return;
        destroyed = true;
        global.removeEventListener("message", onMessage);
        global.clearTimeout(loadTimer);
        [placeholder, iframe].forEach(function (node) {
          if (node.parentNode) node.parentNode.removeChild(node);
        });
      }
    };
  }

  global.OsiguWidgets = Object.freeze({ mount: mount, version: "0.1.0" });
})(window);
