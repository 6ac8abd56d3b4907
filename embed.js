/*! osigu-widgets embed.js — mounts an Osigu widget in an iframe and talks to it safely. MIT. */
(function (global) {
  "use strict";

  var PROTOCOL = 1;
  var WIDGETS = ["prescription", "dispensing", "preauth"];
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
    iframe.setAttribute("allow", "");
    iframe.style.cssText = "display:block;width:100%;border:0;height:0;";
    container.appendChild(placeholder);
    container.appendChild(iframe);

    function send(type, data) {
      if (destroyed || !iframe.contentWindow) return;
      var message = { osigu: PROTOCOL, channel: channel, type: type, widget: options.widget, data: data || {} };
      iframe.contentWindow.postMessage(message, bffOrigin); // exact origin, never "*"
    }

    function fail(code, message, retryable) {
      var error = { code: code, message: message, retryable: !!retryable };
      call(options.onError, error);
      call(options.onEvent, "error", error);
    }

    function withToken(type) {
      if (token && type === "init") {
        send("init", { token: token, theme: options.theme || {}, locale: locale });
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
          send(type, { token: token, previous: previous || null, theme: options.theme || {}, locale: locale });
        })
        .catch(function (error) {
          fail("TOKEN_UNAVAILABLE", "fetchToken failed: " + (error && error.message), true);
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
      session_expired: function () { withToken("token"); }
    };

    function onMessage(event) {
      // Deny by default: the BFF's origin, our own iframe, our protocol and our channel, or nothing.
      if (event.origin !== bffOrigin || event.source !== iframe.contentWindow) return;
      var message = event.data;
      if (!message || message.osigu !== PROTOCOL || message.channel !== channel) return;
      var handler = handlers[message.type];
      if (!handler) return;
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
