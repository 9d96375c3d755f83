/*
 * Milea Estate Vineyard chat widget: a launcher button and a chat panel talking to
 * the Rasa assistant over socket.io.
 *
 * Embed with one tag (everything else loads from the folder this file is served from):
 *   <script src="https://CHAT-HOST/milea-chat.js" data-server-url="https://RASA-HOST" defer></script>
 * Without data-server-url the widget reads window.MILEA_CHAT_CONFIG.serverUrl and, when
 * that is missing too, loads CHAT-HOST/config.js, which sets it.
 * Other attributes: data-lang="en|es" (the widget's own texts, see STRINGS),
 * data-customer-token="<signed token>" (a signed-in customer; or MileaChat.identify(token)).
 * docs/widget.md has the embed instructions and the theme's CSS variables.
 *
 * The file is plain ASCII (non-ASCII characters are \u escapes), so it works whatever the
 * encoding of the host page.
 *
 * Safety: text from the bot or the user is only ever put in the page with textContent;
 * links in bot text become <a> elements only for http: and https: addresses.
 */
(function () {
  "use strict";
  if (window.MileaChat && window.MileaChat.__loaded) return;

  var PREFIX = "milea-chat:";
  var MAX_MESSAGES = 200;              // transcript entries kept in storage
  var MAX_CHARS = 2000;                // the server refuses longer messages
  var IDLE_RESET_MS = 24 * 3600 * 1000; // a conversation idle this long starts over
  var REPLY_TIMEOUT_MS = 30000;
  var FAILS_BEFORE_UNREACHABLE = 3;
  var HANDOFF_PAYLOAD = "/human_handoff";
  var GREET_PAYLOAD = "/greet";       // the greeting (text and buttons from the domain) on first open
  var VOTE_PATH = "/webhooks/socketio/feedback"; // on the Rasa server, next to socket.io

  // Every text the widget itself shows, by language (data-lang; English when missing).
  // The assistant's replies come from the server.
  var STRINGS = {
    en: {
      launcher: "Chat with us", launcherOpen: "Chat with Milea Estate Vineyard",
      launcherClose: "Close chat with Milea Estate Vineyard", close: "Close", closeChat: "Close chat",
      title: "Milea Estate Vineyard", subtitle: "Virtual assistant",
      empty: "Hi! Ask about opening hours, visits and tastings, our wines, the wine club or events.",
      conversation: "Conversation", typing: "The assistant is typing", you: "You: ", assistant: "Assistant: ",
      handoff: "Talk to a person", restart: "Start over", restartLabel: "Start a new conversation",
      placeholder: "Type your question\u2026", message: "Your message", send: "Send message",
      helpful: "Helpful", notHelpful: "Not helpful", wasHelpful: "Was this answer helpful?",
      suggested: "Suggested replies", unread: function (n) { return n === 1 ? "1 unread message" : n + " unread messages"; },
      noAnswer: "No answer yet. Please try again in a moment.",
      unreachable: "Can't reach the winery's assistant right now. We'll keep trying",
      unreachableQueued: " and send your message when we're back.",
      connecting: "Connecting\u2026", reconnecting: "Reconnecting\u2026",
      cannotLoad: "Can't reach the winery's assistant right now (the chat could not load).",
      notConfigured: "The chat is not configured (no server address).",
      image: "Image from the assistant", attachment: "Open attachment",
      wines: "Wines", bottle: function (t) { return "Bottle of " + t; }, nonVintage: "NV",
      inStock: "In stock", soldOut: "Sold out", buy: "Buy", details: "Details",
      buyLabel: function (t) { return "Buy " + t + " (opens the shop in a new tab)"; },
      detailsLabel: function (t) { return "Details of " + t + " (opens the shop in a new tab)"; }
    },
    es: {
      launcher: "Chatee con nosotros", launcherOpen: "Chatear con Milea Estate Vineyard",
      launcherClose: "Cerrar el chat con Milea Estate Vineyard", close: "Cerrar", closeChat: "Cerrar el chat",
      title: "Milea Estate Vineyard", subtitle: "Asistente virtual",
      empty: "\u00a1Hola! Pregunte por el horario, las visitas y catas, nuestros vinos, el club o los eventos.",
      conversation: "Conversaci\u00f3n", typing: "El asistente est\u00e1 escribiendo", you: "Usted: ",
      assistant: "Asistente: ", handoff: "Hablar con una persona", restart: "Empezar de nuevo",
      restartLabel: "Empezar una conversaci\u00f3n nueva", placeholder: "Escriba su pregunta\u2026",
      message: "Su mensaje", send: "Enviar mensaje", helpful: "\u00datil", notHelpful: "No es \u00fatil",
      wasHelpful: "\u00bfLe fue \u00fatil esta respuesta?", suggested: "Respuestas sugeridas",
      unread: function (n) { return n === 1 ? "1 mensaje sin leer" : n + " mensajes sin leer"; },
      noAnswer: "Todav\u00eda no hay respuesta. Int\u00e9ntelo de nuevo en un momento.",
      unreachable: "No podemos contactar con el asistente ahora. Seguiremos intent\u00e1ndolo",
      unreachableQueued: " y enviaremos su mensaje en cuanto volvamos.",
      connecting: "Conectando\u2026", reconnecting: "Reconectando\u2026",
      cannotLoad: "No podemos contactar con el asistente ahora (el chat no se pudo cargar).",
      notConfigured: "El chat no est\u00e1 configurado (falta la direcci\u00f3n del servidor).",
      image: "Imagen del asistente", attachment: "Abrir el adjunto",
      wines: "Vinos", bottle: function (t) { return "Botella de " + t; }, nonVintage: "NV",
      inStock: "Disponible", soldOut: "Agotado", buy: "Comprar", details: "Detalles",
      buyLabel: function (t) { return "Comprar " + t + " (abre la tienda en una pesta\u00f1a nueva)"; },
      detailsLabel: function (t) { return "Detalles de " + t + " (abre la tienda en una pesta\u00f1a nueva)"; }
    }
  };

  var script = document.currentScript ||
    document.querySelector('script[src*="milea-chat.js"]');
  var scriptUrl = new URL((script && script.src) || "milea-chat.js", document.baseURI);
  var assetBase = new URL(".", scriptUrl).href;
  var dataset = (script && script.dataset) || {};
  var lang = STRINGS[(dataset.lang || "").toLowerCase()] ? dataset.lang.toLowerCase() : "en";
  var T = STRINGS[lang];
  // A signed-in customer's token from the host page: sent with every message (never stored).
  var customerToken = typeof dataset.customerToken === "string" && dataset.customerToken ? dataset.customerToken : null;

  // ---------------------------------------------------------------- storage
  var memory = {};
  function storage(kind) {
    try {
      var s = window[kind];
      var probe = PREFIX + "probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return {
        getItem: function (k) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; },
        setItem: function (k, v) { memory[k] = String(v); },
        removeItem: function (k) { delete memory[k]; }
      };
    }
  }
  var local = storage("localStorage");
  var perTab = storage("sessionStorage");

  function readJSON(store, key, fallback) {
    try {
      var raw = store.getItem(PREFIX + key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function writeJSON(store, key, value) {
    try {
      store.setItem(PREFIX + key, JSON.stringify(value));
    } catch (e) { /* storage full or blocked: the chat still works for this page */ }
  }

  var SESSION_ID = /^(w?[0-9a-f]{32}\.[0-9a-f]{32}|[0-9a-f]{32})$/;
  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ------------------------------------------------------- conversation state
  var state = {
    sessionId: null,
    messages: [],      // {id, from: "bot"|"user", text, quickReplies?, attachment?, vote?, at}
    updatedAt: 0
  };

  function loadConversation() {
    var saved = readJSON(local, "conversation", null);
    // The server issues session ids ("w<hex>.<mac>"); 32 hex digits are ids this widget chose
    // itself before, which the server confirms once in the issued form.
    if (saved && typeof saved.sessionId === "string" && SESSION_ID.test(saved.sessionId) &&
        Array.isArray(saved.messages) && Date.now() - (saved.updatedAt || 0) < IDLE_RESET_MS) {
      state.sessionId = saved.sessionId;
      state.messages = saved.messages.filter(function (m) {
        return m && (m.from === "bot" || m.from === "user") && typeof m.id === "string";
      });
      state.updatedAt = saved.updatedAt;
    } else {
      state.sessionId = null; // session_confirm gives one
      state.messages = [];
      state.updatedAt = Date.now();
    }
  }
  function saveConversation() {
    state.updatedAt = Date.now();
    if (state.messages.length > MAX_MESSAGES) state.messages = state.messages.slice(-MAX_MESSAGES);
    writeJSON(local, "conversation", state);
  }

  // ------------------------------------------------------------ DOM helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "text") node.textContent = value;
        else if (name === "className") node.className = value;
        else node.setAttribute(name, value === true ? "" : value);
      });
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function svgIcon(paths, viewBox) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", viewBox || "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  var ICON_CHAT = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"];
  var ICON_CLOSE = ["M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"];
  var ICON_RESTART = ["M12 5V1L7 6l5 5V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z"];
  var ICON_SEND = ["M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z"];
  var ICON_UP = ["M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z"];
  var ICON_DOWN = ["M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z"];

  // Only absolute http(s) addresses become links; anything else stays text.
  function safeHref(raw) {
    try {
      var url = new URL(raw);
      return (url.protocol === "http:" || url.protocol === "https:") ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(label, href) {
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: label });
  }

  // Bare URLs and markdown [label](url); trailing punctuation stays outside the link.
  var LINK_RE = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)|\bhttps?:\/\/[^\s<>"'`]+/gi;
  function appendRichText(parent, text) {
    var last = 0;
    var match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var label, raw, end = LINK_RE.lastIndex;
      if (match[1] !== undefined) {
        label = match[1];
        raw = match[2];
      } else {
        raw = match[0];
        var trail = /[.,;:!?)\]}'"\u2019\u201d]+$/.exec(raw);
        if (trail) {
          raw = raw.slice(0, -trail[0].length);
          end -= trail[0].length;
          LINK_RE.lastIndex = end;
        }
        label = raw;
      }
      var href = safeHref(raw);
      if (!href) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(link(label, href));
      last = end;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------- widget UI
  var ui = {};
  var isOpen = false;
  var unread = 0;

  function build() {
    var root = el("div", { className: "mc-root", "data-milea-chat": "", lang: lang });

    ui.badge = el("span", { className: "mc-badge", "aria-hidden": "true" });
    ui.badge.hidden = true;
    ui.launcher = el("button", {
      type: "button", className: "mc-launcher", "aria-label": T.launcherOpen,
      "aria-expanded": "false", "aria-controls": "mc-panel"
    }, [svgIcon(ICON_CHAT), svgIcon(ICON_CLOSE), el("span", { className: "mc-launcher-label", text: T.launcher }),
      ui.badge]);
    ui.launcherLabel = ui.launcher.querySelector(".mc-launcher-label");

    ui.title = el("h2", { id: "mc-title", className: "mc-title", text: T.title });
    ui.subtitle = el("p", { className: "mc-subtitle", text: T.subtitle });
    ui.restart = el("button", { type: "button", className: "mc-icon-button mc-restart", "aria-label": T.restartLabel,
      title: T.restart }, [svgIcon(ICON_RESTART)]);
    ui.close = el("button", { type: "button", className: "mc-icon-button mc-close", "aria-label": T.closeChat,
      title: T.close }, [svgIcon(ICON_CLOSE)]);
    var header = el("div", { className: "mc-header" }, [
      el("div", { className: "mc-heading" }, [ui.title, ui.subtitle]),
      el("div", { className: "mc-header-buttons" }, [ui.restart, ui.close])
    ]);

    ui.log = el("div", {
      className: "mc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": T.conversation, tabindex: "0"
    });
    ui.empty = el("p", { className: "mc-empty", text: T.empty });
    ui.typing = el("div", { className: "mc-typing", hidden: true }, [
      el("span", { className: "mc-dot", "aria-hidden": "true" }),
      el("span", { className: "mc-dot", "aria-hidden": "true" }),
      el("span", { className: "mc-dot", "aria-hidden": "true" }),
      el("span", { className: "mc-sr-only", text: T.typing })
    ]);
    ui.status = el("div", { className: "mc-status", role: "status", "aria-live": "polite" });
    ui.status.hidden = true;

    ui.handoff = el("button", { type: "button", className: "mc-handoff", text: T.handoff });
    ui.input = el("input", {
      type: "text", className: "mc-input", id: "mc-input", name: "message", autocomplete: "off",
      maxlength: String(MAX_CHARS), placeholder: T.placeholder, "aria-label": T.message
    });
    ui.send = el("button", { type: "submit", className: "mc-send", "aria-label": T.send },
      [svgIcon(ICON_SEND)]);
    ui.form = el("form", { className: "mc-form" }, [ui.input, ui.send]);
    var footer = el("div", { className: "mc-footer" }, [
      el("div", { className: "mc-actions" }, [ui.handoff]), ui.form
    ]);

    ui.body = el("div", { className: "mc-body" }, [ui.empty, ui.log, ui.typing]);
    ui.panel = el("div", {
      id: "mc-panel", className: "mc-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "mc-title"
    }, [header, ui.status, ui.body, footer]);
    ui.panel.hidden = true;

    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);
    ui.root = root;

    ui.launcher.addEventListener("click", function () { isOpen ? close() : open(); });
    ui.close.addEventListener("click", function () { close(); });
    ui.restart.addEventListener("click", function () { restart(); });
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        close();
      }
    });
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = ui.input.value.replace(/\s+/g, " ").trim();
      if (!text) return;
      ui.input.value = "";
      sendUser(text, text);
    });
    ui.handoff.addEventListener("click", function () { sendUser(T.handoff, HANDOFF_PAYLOAD); });
  }

  function timeLabel(at) {
    var date = new Date(at);
    try {
      return date.toLocaleTimeString(lang, { hour: "numeric", minute: "2-digit" });
    } catch (e) {
      return ("0" + date.getHours()).slice(-2) + ":" + ("0" + date.getMinutes()).slice(-2);
    }
  }

  function renderMessage(message, showReplies) {
    var item = el("div", {
      className: "mc-message mc-from-" + message.from, "data-message-id": message.id
    });
    var who = el("span", { className: "mc-sr-only", text: message.from === "bot" ? T.assistant : T.you });
    if (typeof message.text === "string" || message.attachment) {
      var bubble = el("div", { className: "mc-bubble" }, [who]);
      if (message.from === "bot" && typeof message.text === "string") appendRichText(bubble, message.text);
      else if (typeof message.text === "string") bubble.appendChild(document.createTextNode(message.text));
      if (message.attachment) renderAttachment(bubble, message.attachment);
      item.appendChild(bubble);
    }
    if (message.cards) item.appendChild(renderCards(message.cards));
    if (typeof message.at === "number") {
      item.appendChild(el("time", { className: "mc-time", datetime: new Date(message.at).toISOString(),
        text: timeLabel(message.at) }));
    }
    if (message.from === "bot") {
      if (typeof message.text === "string") item.appendChild(renderFeedback(message));
      if (showReplies && Array.isArray(message.quickReplies) && message.quickReplies.length) {
        item.appendChild(renderQuickReplies(message.quickReplies));
      }
    }
    return item;
  }

  // Wine cards from the assistant (actions/cards.py): one card, or a carousel for several.
  function renderCards(cards) {
    var list = el("ul", { className: "mc-cards" + (cards.length > 1 ? " mc-carousel" : ""), "aria-label": T.wines });
    if (cards.length > 1) list.setAttribute("tabindex", "0"); // scrollable: reachable by keyboard
    cards.forEach(function (card) { list.appendChild(renderCard(card)); });
    return el("div", { className: "mc-cards-wrap" }, [el("span", { className: "mc-sr-only", text: T.assistant }), list]);
  }

  function renderCard(card) {
    var name = (card.vintage ? card.vintage + " " : "") + card.title;
    var children = [];
    var image = safeHref(card.image || "");
    if (image) children.push(el("img", { className: "mc-card-image", src: image, alt: T.bottle(name), loading: "lazy" }));
    var facts = [];
    if (card.varietal) facts.push(el("p", { className: "mc-card-varietal", text: card.varietal }));
    var line = el("p", { className: "mc-card-line" }, [
      card.price ? el("span", { className: "mc-card-price", text: card.price }) : null,
      card.inStock === true ? el("span", { className: "mc-card-stock", text: T.inStock }) : null,
      card.inStock === false ? el("span", { className: "mc-card-stock mc-sold-out", text: T.soldOut }) : null
    ]);
    var body = el("div", { className: "mc-card-body" }, [
      el("h3", { className: "mc-card-title", text: name })
    ].concat(facts, [line]));
    var url = safeHref(card.url || "");
    if (url) {
      var soldOut = card.inStock === false;
      body.appendChild(el("a", {
        className: "mc-card-buy" + (soldOut ? " mc-card-details" : ""), href: url, target: "_blank",
        rel: "noopener noreferrer", text: soldOut ? T.details : T.buy,
        "aria-label": soldOut ? T.detailsLabel(name) : T.buyLabel(name)
      }));
    }
    children.push(body);
    return el("li", { className: "mc-card" }, children);
  }

  // Only the fields the cards use, checked: the server's payload is data, never markup.
  function cleanCards(payload) {
    if (!payload || payload.type !== "wine_cards" || !Array.isArray(payload.cards)) return null;
    var cards = payload.cards.filter(function (c) { return c && typeof c.title === "string" && c.title; })
      .slice(0, 12).map(function (c) {
        return {
          title: c.title.slice(0, 200),
          vintage: typeof c.vintage === "number" ? c.vintage : null,
          varietal: typeof c.varietal === "string" ? c.varietal.slice(0, 200) : null,
          price: typeof c.price === "string" ? c.price.slice(0, 40) : null,
          inStock: c.in_stock === true || c.in_stock === false ? c.in_stock : (c.inStock === true || c.inStock === false ? c.inStock : null),
          image: typeof c.image === "string" ? c.image : null,
          url: typeof c.url === "string" ? c.url : null
        };
      });
    return cards.length ? cards : null;
  }

  function renderAttachment(bubble, attachment) {
    var payload = attachment && typeof attachment === "object" ? (attachment.payload || {}) : {};
    var src = safeHref(typeof payload === "object" ? (payload.src || payload.url || "") : "");
    if (!src) return;
    if (attachment.type === "image") {
      bubble.appendChild(el("img", { className: "mc-image", src: src, alt: T.image, loading: "lazy" }));
    } else {
      bubble.appendChild(link(T.attachment, src));
    }
  }

  function renderQuickReplies(replies) {
    var group = el("div", { className: "mc-quick-replies", role: "group", "aria-label": T.suggested });
    replies.forEach(function (reply) {
      if (!reply || typeof reply.title !== "string") return;
      var payload = typeof reply.payload === "string" && reply.payload ? reply.payload : reply.title;
      var button = el("button", { type: "button", className: "mc-quick-reply", text: reply.title });
      button.addEventListener("click", function () { sendUser(reply.title, payload); });
      group.appendChild(button);
    });
    return group;
  }

  function renderFeedback(message) {
    var group = el("div", { className: "mc-feedback", role: "group", "aria-label": T.wasHelpful });
    [["up", ICON_UP, T.helpful], ["down", ICON_DOWN, T.notHelpful]].forEach(function (choice) {
      var button = el("button", {
        type: "button", className: "mc-vote mc-vote-" + choice[0], "aria-label": choice[2],
        title: choice[2], "aria-pressed": message.vote === choice[0] ? "true" : "false", "data-vote": choice[0]
      }, [svgIcon(choice[1])]);
      button.addEventListener("click", function () { vote(message.id, choice[0]); });
      group.appendChild(button);
    });
    return group;
  }

  // Quick replies show under the newest bot message that has some, until the visitor writes
  // again (a wine card may follow the question its buttons answer).
  function repliesOwner() {
    for (var i = state.messages.length - 1; i >= 0; i--) {
      var m = state.messages[i];
      if (m.from === "user") return null;
      if (Array.isArray(m.quickReplies) && m.quickReplies.length) return m;
    }
    return null;
  }

  function renderAll() {
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    var owner = repliesOwner();
    state.messages.forEach(function (message) {
      ui.log.appendChild(renderMessage(message, message === owner));
    });
    ui.empty.hidden = state.messages.length > 0;
    scrollToEnd();
  }

  function dropQuickReplies() {
    var groups = ui.log.querySelectorAll(".mc-quick-replies");
    Array.prototype.forEach.call(groups, function (g) { g.parentNode.removeChild(g); });
  }

  function addMessage(message) {
    message.id = message.id || randomId().slice(0, 12);
    message.at = Date.now();
    state.messages.push(message);
    saveConversation();
    var hasReplies = Array.isArray(message.quickReplies) && message.quickReplies.length;
    if (message.from === "user" || hasReplies) dropQuickReplies();
    ui.log.appendChild(renderMessage(message, hasReplies));
    ui.empty.hidden = true;
    if (message.from === "bot" && !isOpen) setUnread(unread + 1);
    scrollToEnd();
    return message;
  }

  function setUnread(count) {
    unread = count;
    ui.badge.textContent = count > 9 ? "9+" : String(count);
    ui.badge.hidden = count === 0;
    ui.launcher.setAttribute("aria-label", isOpen ? T.launcherClose
      : T.launcherOpen + (count ? " (" + T.unread(count) + ")" : ""));
  }

  function scrollToEnd() {
    ui.body.scrollTop = ui.body.scrollHeight;
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    if (on) scrollToEnd();
  }

  function setStatus(text, kind) {
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
    ui.status.className = "mc-status" + (kind ? " mc-status-" + kind : "");
  }

  function open() {
    if (isOpen) return;
    isOpen = true;
    ui.panel.hidden = false;
    ui.root.classList.add("mc-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcherLabel.textContent = T.close;
    setUnread(0);
    perTab.setItem(PREFIX + "open", "1");
    scrollToEnd();
    ui.input.focus();
    if (!state.messages.length && !greeted) greet();
    connect();
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    ui.panel.hidden = true;
    ui.root.classList.remove("mc-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcherLabel.textContent = T.launcher;
    setUnread(0);
    perTab.removeItem(PREFIX + "open");
    ui.launcher.focus();
  }

  // A new visitor is greeted by the assistant (its greeting and buttons live in the domain).
  var greeted = false;
  function greet() {
    greeted = true;
    sendUser(null, GREET_PAYLOAD);
  }

  function restart() {
    window.MileaChat.reset();
    greet();
    ui.input.focus();
  }

  // --------------------------------------------------------------- feedback
  function vote(messageId, choice) {
    var message = null;
    state.messages.forEach(function (m) { if (m.id === messageId) message = m; });
    if (!message) return;
    message.vote = message.vote === choice ? null : choice; // a second click takes the vote back
    saveConversation();
    var buttons = ui.log.querySelectorAll('[data-message-id="' + messageId + '"] .mc-vote');
    Array.prototype.forEach.call(buttons, function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-vote") === message.vote ? "true" : "false");
    });
    var record = {
      sessionId: state.sessionId, messageId: message.id, vote: message.vote,
      text: message.text || "", at: new Date().toISOString()
    };
    if (message.vote) sendVote(message);
    // The last votes also stay in localStorage ("milea-chat:feedback") and go to
    // window.MileaChat.onFeedback, for pages that collect them themselves.
    var log = readJSON(local, "feedback", []);
    if (!Array.isArray(log)) log = [];
    log.push(record);
    writeJSON(local, "feedback", log.slice(-100));
    var hook = window.MileaChat && window.MileaChat.onFeedback;
    if (typeof hook === "function") {
      try { hook(record); } catch (e) { if (window.console) console.error("MileaChat.onFeedback failed", e); }
    }
  }

  // The customer message a bot message answered: the last user message before it.
  function questionBefore(message) {
    var question = null;
    for (var i = 0; i < state.messages.length && state.messages[i] !== message; i++) {
      if (state.messages[i].from === "user") question = state.messages[i].text;
    }
    return typeof question === "string" && question ? question.slice(0, MAX_CHARS) : null;
  }

  // Votes go to the Rasa server (the socket.io server: same origin and CORS wherever the
  // widget is embedded); keepalive lets a vote made just before leaving the page still arrive.
  function sendVote(message) {
    var answer = typeof message.text === "string" ? message.text.slice(0, MAX_CHARS) : "";
    serverUrl = serverUrl || resolveServerUrl();
    if (!answer || !window.fetch || !serverUrl) return;
    try {
      window.fetch(new URL(VOTE_PATH, serverUrl).href, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          conversation_id: state.sessionId, vote: message.vote,
          answer_text: answer, question_text: questionBefore(message)
        }),
        keepalive: true,
        credentials: "omit"
      }).catch(function () { /* offline: the vote stays in localStorage only */ });
    } catch (e) { /* very old browser: nothing to do */ }
  }

  // --------------------------------------------------------------- socket.io
  var socket = null;
  var ready = false;        // session confirmed on the current connection
  var outbox = [];          // messages typed while not connected
  var failures = 0;
  var everConnected = false;
  var replyTimer = null;
  var serverUrl = null;

  // display null: sent without a bubble (the greeting request).
  function sendUser(display, payload) {
    var text = String(payload).slice(0, MAX_CHARS);
    if (display !== null) addMessage({ from: "user", text: String(display).slice(0, MAX_CHARS) });
    outbox.push(text);
    setTyping(ready);
    if (!ready && failures) showTrouble();
    clearTimeout(replyTimer);
    replyTimer = setTimeout(function () {
      setTyping(false);
      if (ready) setStatus(T.noAnswer, "warn");
    }, REPLY_TIMEOUT_MS);
    if (isOpen) ui.input.focus();
    flush();
    connect();
  }

  // The server gave this conversation its id. When the widget presented another one (an old id
  // upgraded keeps its transcript; one the server no longer knows starts a new conversation).
  function adopt(issued) {
    var upgraded = state.sessionId && issued.split(".")[0] === state.sessionId;
    if (state.sessionId && !upgraded) {
      state.messages = [];
      greeted = false;
      renderAll();
    }
    state.sessionId = issued;
    saveConversation();
    if (!upgraded && isOpen && !greeted && !outbox.length) greet();
  }

  function flush() {
    if (!ready || !socket) return;
    while (outbox.length) {
      var metadata = { source: "milea-chat-widget", lang: lang };
      if (customerToken) metadata.customer_token = customerToken; // the server verifies it
      socket.emit("user_uttered", { message: outbox.shift(), session_id: state.sessionId, metadata: metadata });
    }
  }

  function onBotUttered(data) {
    if (!data || typeof data !== "object") return;
    var message = { from: "bot" };
    if (typeof data.text === "string" && data.text) message.text = data.text;
    if (Array.isArray(data.quick_replies)) {
      message.quickReplies = data.quick_replies
        .filter(function (r) { return r && typeof r.title === "string"; })
        .map(function (r) { return { title: r.title, payload: typeof r.payload === "string" ? r.payload : r.title }; });
    }
    if (data.attachment && typeof data.attachment === "object") message.attachment = data.attachment;
    var cards = cleanCards(data.custom);
    if (cards) message.cards = cards;
    if (!message.text && !message.attachment && !message.cards) return;
    clearTimeout(replyTimer);
    setTyping(false);
    if (ui.status.className.indexOf("mc-status-warn") !== -1) setStatus("");
    addMessage(message);
  }

  function connectionTrouble() {
    ready = false;
    failures += 1;
    setTyping(false);
    showTrouble();
  }

  function showTrouble() {
    if (failures >= FAILS_BEFORE_UNREACHABLE) {
      setStatus(T.unreachable + (outbox.length ? T.unreachableQueued : "."), "error");
    } else {
      setStatus(everConnected ? T.reconnecting : T.connecting, "warn");
    }
  }

  function connect() {
    if (socket) return;
    loadClient(function (err) {
      if (err) {
        setStatus(T.cannotLoad, "error");
        return;
      }
      if (!serverUrl) {
        setStatus(T.notConfigured, "error");
        return;
      }
      if (socket) return;
      socket = window.io(serverUrl, {
        path: "/socket.io",
        // Behind several Rasa replicas nginx routes every request of a connection to one of them.
        // A random key of this page, never the session id: that one is the key to the chat and
        // would sit in the proxy's access log.
        query: { sticky: randomId() },
        // WebSocket from the start; long-polling only where WebSocket cannot connect.
        transports: ["websocket", "polling"],
        tryAllTransports: true,
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 10000,
        timeout: 8000
      });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (confirmed) {
        var issued = confirmed && typeof confirmed === "object" ? confirmed.session_id : confirmed;
        if (typeof issued === "string" && issued !== state.sessionId) adopt(issued);
        ready = true;
        failures = 0;
        everConnected = true;
        setStatus("");
        if (outbox.length) setTyping(true);
        flush();
      });
      socket.on("bot_uttered", onBotUttered);
      socket.on("connect_error", connectionTrouble);
      socket.on("disconnect", function (reason) {
        ready = false;
        if (reason === "io client disconnect") return;
        setStatus(T.reconnecting, "warn");
        if (reason === "io server disconnect") socket.connect(); // not retried automatically
      });
    });
  }

  // socket.io client and server address, loaded once, from the widget's own folder.
  var loading = null;
  function loadScript(src, done) {
    var tag = document.createElement("script");
    tag.src = src;
    tag.async = true;
    tag.onload = function () { done(null); };
    tag.onerror = function () { done(new Error("failed to load " + src)); };
    document.head.appendChild(tag);
  }
  function loadClient(done) {
    if (loading) {
      loading.push(done);
      return;
    }
    loading = [done];
    function finish(err) {
      var callbacks = loading;
      loading = null;
      serverUrl = resolveServerUrl();
      callbacks.forEach(function (cb) { cb(err); });
    }
    function needIo() {
      if (typeof window.io === "function") finish(null);
      else loadScript(dataset.socketioSrc || new URL("vendor/socket.io.min.js", assetBase).href, finish);
    }
    if (resolveServerUrl()) needIo();
    else loadScript(new URL("config.js", assetBase).href, function () { needIo(); });
  }
  function resolveServerUrl() {
    if (dataset.serverUrl) return dataset.serverUrl;
    var config = window.MILEA_CHAT_CONFIG;
    return config && typeof config.serverUrl === "string" && config.serverUrl ? config.serverUrl : null;
  }

  // ---------------------------------------------------------------- start-up
  function loadStyles(done) {
    if (dataset.css === "none" || document.querySelector("link[data-milea-chat-css]")) return done();
    var tag = el("link", { rel: "stylesheet", href: dataset.css || new URL("milea-chat.css", assetBase).href,
      "data-milea-chat-css": "" });
    var called = false;
    function once() { if (!called) { called = true; done(); } }
    tag.onload = once;
    tag.onerror = once;
    setTimeout(once, 3000);
    document.head.appendChild(tag);
  }

  function start() {
    loadConversation();
    build();
    renderAll();
    loadStyles(function () {
      document.body.appendChild(ui.root);
      if (perTab.getItem(PREFIX + "open") === "1") open();
    });
  }

  window.MileaChat = {
    __loaded: true,
    onFeedback: (window.MileaChat && window.MileaChat.onFeedback) || null,
    open: function () { open(); },
    close: function () { close(); },
    send: function (text) { if (text) sendUser(String(text), String(text)); },
    // A signed-in customer: the host page passes the token its server signed (null signs out).
    identify: function (token) {
      customerToken = typeof token === "string" && token ? token : null;
    },
    get sessionId() { return state.sessionId; },
    get transport() { return socket && socket.io && socket.io.engine ? socket.io.engine.transport.name : null; },
    // Starts a new conversation: new session id, empty transcript.
    reset: function () {
      local.removeItem(PREFIX + "conversation");
      loadConversation();
      outbox = [];
      greeted = false;
      setTyping(false);
      setStatus("");
      renderAll();
      if (socket && ready) {
        // the new conversation's id comes with session_confirm: messages wait for it
        ready = false;
        socket.emit("session_request", { session_id: state.sessionId });
      }
    }
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
