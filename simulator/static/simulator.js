/* The phone simulator. The browser plays the USSD gateway's part: it keeps the session's
 * cumulative text (inputs joined with "*") and a sessionId per dial, and posts each hop to
 * /simulator/hop. It also polls /simulator/inbox for the SMS the number in use received. */
(function () {
  "use strict";

  var root = document.querySelector("[data-simulator]");
  var SERVICE_CODE = root.getAttribute("data-service-code");
  var HOP_URL = root.getAttribute("data-hop-url");
  var INBOX_URL = root.getAttribute("data-inbox-url");
  var POLL_MS = 2000;
  var MAX_DIAL = 32;
  var MAX_REPLY = 182; // the longest reply a USSD gateway carries
  var STORAGE_KEY = "minerline.simulator.number";
  var MSG_NETWORK = "Connection problem or invalid MMI code.";

  function $(id) { return document.getElementById(id); }

  var el = {
    screen: $("screen"),
    display: $("display"),
    entry: $("entry"),
    entryText: $("entry-text"),
    softLeft: $("soft-left"),
    softRight: $("soft-right"),
    clock: $("clock"),
    numbers: $("numbers"),
    otherChoice: $("other-choice"),
    otherRadio: $("other-radio"),
    otherMsisdn: $("other-msisdn"),
    otherForm: $("other-form"),
    otherInput: $("other-number"),
    otherError: $("other-error"),
    inbox: $("inbox"),
    inboxNote: $("inbox-note"),
    inboxEmpty: $("inbox-empty"),
    inboxNumber: $("inbox-number")
  };

  var phone = {
    number: "",
    mode: "idle", // idle | busy | con | end
    dialBuffer: "",
    reply: "",
    screenText: "",
    idleNote: "",
    sessionId: null,
    inputs: [],
    hopSeq: 0 // bumped on hang-up and on every hop, so a late answer is dropped
  };

  // ---- the phone -------------------------------------------------------------------------------

  function formatNumber(number) {
    var m = /^\+256(\d{3})(\d{3})(\d{3})$/.exec(number);
    return m ? "+256 " + m[1] + " " + m[2] + " " + m[3] : number;
  }

  function line(className, text) {
    var span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }

  // The screen's text, rebuilt only when it changes, so screen readers announce each screen once.
  var shownDisplay = null;

  function showDisplay(key, fill) {
    if (key === shownDisplay) return;
    shownDisplay = key;
    el.display.textContent = "";
    fill();
    el.display.scrollTop = 0;
  }

  function render() {
    el.screen.setAttribute("data-mode", phone.mode);
    var left = "", right = "", entry = "";
    if (phone.mode === "idle") {
      showDisplay(["idle", phone.number, phone.idleNote].join("|"), function () {
        el.display.appendChild(line("idle-name", "Minerline test SIM"));
        el.display.appendChild(line("idle-number", formatNumber(phone.number)));
        el.display.appendChild(line("idle-hint", "Dial " + SERVICE_CODE));
        if (phone.idleNote) el.display.appendChild(line("idle-note", phone.idleNote));
      });
      entry = phone.dialBuffer;
      left = "Call";
      right = phone.dialBuffer ? "Clear" : "";
    } else if (phone.mode === "busy") {
      showDisplay("busy", function () { el.display.appendChild(line("busy", "Running USSD code")); });
    } else {
      // A hop counter in the key: the same text twice in a row is still a new screen.
      showDisplay([phone.mode, phone.hopSeq, phone.screenText].join("|"), function () {
        el.display.textContent = phone.screenText;
      });
      if (phone.mode === "con") {
        entry = phone.reply;
        left = "Send";
        right = phone.reply ? "Clear" : "";
      } else {
        left = "OK";
      }
    }
    // Show the end of a long entry, as a phone does.
    el.entryText.textContent = entry.length > 16 ? "\u2026" + entry.slice(-15) : entry;
    el.entry.classList.toggle("is-empty", entry === "");
    el.softLeft.textContent = left;
    el.softRight.textContent = right;
  }

  function randomHex(bytes) {
    var a = new Uint8Array(bytes);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function showEnd(text) {
    phone.mode = "end";
    phone.screenText = text;
    phone.sessionId = null;
    render();
  }

  function dial(code) {
    phone.dialBuffer = "";
    phone.idleNote = "";
    if (code !== SERVICE_CODE) {
      var ussd = /^\*[0-9*#]*#$/.test(code);
      showEnd(ussd ? MSG_NETWORK : "Only the service code " + SERVICE_CODE + " can be dialled here.");
      return;
    }
    phone.sessionId = "SIM_" + randomHex(16);
    phone.inputs = [];
    hop();
  }

  function hop() {
    var seq = ++phone.hopSeq;
    phone.mode = "busy";
    render();
    var payload = { sessionId: phone.sessionId, phoneNumber: phone.number, text: phone.inputs.join("*") };
    fetch(HOP_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (seq !== phone.hopSeq) return; // hung up, or the number changed, meanwhile
        if (!resp.ok || typeof body.text !== "string") {
          showEnd(body.error ? MSG_NETWORK + "\n\n(" + body.error + ")" : MSG_NETWORK);
          return;
        }
        showAnswer(body.text);
      });
    }).catch(function () {
      if (seq === phone.hopSeq) showEnd(MSG_NETWORK);
    });
  }

  function showAnswer(text) {
    if (text.indexOf("CON ") === 0) {
      phone.mode = "con";
      phone.screenText = text.slice(4);
      phone.reply = "";
      render();
    } else {
      showEnd(text.indexOf("END ") === 0 ? text.slice(4) : text);
    }
  }

  function hangUp(note) {
    var wasActive = phone.mode === "con" || phone.mode === "busy";
    phone.hopSeq++;
    phone.sessionId = null;
    phone.inputs = [];
    phone.reply = "";
    phone.dialBuffer = "";
    phone.mode = "idle";
    phone.idleNote = note || (wasActive ? "Session ended" : "");
    render();
  }

  function type(key) {
    if (phone.mode === "busy") return;
    if (phone.mode === "end") {
      phone.mode = "idle";
      phone.idleNote = "";
      phone.dialBuffer = "";
    }
    if (phone.mode === "idle") {
      if (phone.dialBuffer.length < MAX_DIAL) phone.dialBuffer += key;
      phone.idleNote = "";
    } else if (phone.mode === "con") {
      if (phone.reply.length < MAX_REPLY) phone.reply += key;
    }
    render();
  }

  function clear() {
    if (phone.mode === "idle") {
      phone.dialBuffer = phone.dialBuffer.slice(0, -1);
    } else if (phone.mode === "con") {
      phone.reply = phone.reply.slice(0, -1);
    } else if (phone.mode === "end") {
      phone.mode = "idle";
      phone.idleNote = "";
    }
    render();
  }

  function send() {
    if (phone.mode === "idle") {
      dial(phone.dialBuffer || SERVICE_CODE);
    } else if (phone.mode === "con") {
      if (phone.reply === "") return; // a phone will not send an empty reply
      phone.inputs.push(phone.reply);
      phone.reply = "";
      hop();
    } else if (phone.mode === "end") {
      hangUp();
    }
  }

  function call() {
    if (phone.mode === "end") {
      dial(SERVICE_CODE); // redial
    } else {
      send();
    }
  }

  var actions = { send: send, call: call, end: function () { hangUp(); }, clear: clear };

  // Pressing a key on the keyboard presses the matching button on the phone.
  function flash(button) {
    if (!button) return;
    button.classList.add("pressed");
    window.setTimeout(function () { button.classList.remove("pressed"); }, 120);
  }

  function buttonFor(selector) { return document.querySelector(selector); }

  document.querySelector(".phone").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var key = button.getAttribute("data-key");
    if (key) type(key);
    var action = button.getAttribute("data-action");
    if (action) actions[action]();
  });

  function isTextField(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
    return tag === "input" && target.type !== "radio" && target.type !== "checkbox";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return;
    var k = event.key;
    if (/^[0-9*#]$/.test(k)) {
      type(k);
      flash(buttonFor('.key[data-key="' + k + '"]'));
    } else if (k === "Enter") {
      // Only the phone takes Enter, even when a button or a radio has the focus.
      var target = event.target.closest ? event.target.closest(".side button") : null;
      if (target) return;
      send();
      flash($("key-send"));
    } else if (k === "Backspace") {
      clear();
      flash($("key-clear"));
    } else if (k === "Escape") {
      hangUp();
      flash($("key-end"));
    } else {
      return;
    }
    event.preventDefault();
  });

  function tick() {
    var now = new Date();
    el.clock.textContent = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
  }

  // ---- the number in use -----------------------------------------------------------------------

  function useNumber(number) {
    if (number === phone.number) return;
    var switching = phone.number !== "";
    phone.number = number;
    hangUp(switching ? "Number changed" : "");
    el.inboxNumber.textContent = formatNumber(number);
    try { window.localStorage.setItem(STORAGE_KEY, number); } catch (e) { /* private mode */ }
    inbox.reset();
    pollInbox();
  }

  // Check the radio of ``number``: a demo number's, or the one for a typed number.
  function selectRadioFor(number) {
    var radios = el.numbers.querySelectorAll('input[name="number"]');
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].value === number) { radios[i].checked = true; return; }
    }
    el.otherRadio.value = number;
    el.otherMsisdn.textContent = formatNumber(number);
    el.otherChoice.hidden = false;
    el.otherRadio.checked = true;
  }

  el.numbers.addEventListener("change", function (event) {
    if (event.target.name !== "number") return;
    el.otherError.textContent = "";
    useNumber(event.target.value);
  });

  // The server says whether a typed number is Ugandan, and how it is written (+256...).
  el.otherForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var raw = el.otherInput.value.trim();
    el.otherError.textContent = "";
    if (!raw) {
      el.otherError.textContent = "Type a Ugandan mobile number, e.g. 0772 123456.";
      el.otherInput.focus();
      return;
    }
    fetch(INBOX_URL + "?phone=" + encodeURIComponent(raw), { cache: "no-store" }).then(function (resp) {
      return resp.json().then(function (body) {
        if (!resp.ok) {
          el.otherError.textContent = body.error || "That number cannot be used.";
          return;
        }
        selectRadioFor(body.phone);
        el.otherInput.value = "";
        useNumber(body.phone);
      });
    }).catch(function () {
      el.otherError.textContent = "The simulator cannot be reached.";
    });
  });

  // ---- the SMS inbox ---------------------------------------------------------------------------

  var inbox = {
    seen: {},
    loaded: false,
    shown: "",
    pollSeq: 0,
    timer: null,
    reset: function () {
      this.seen = {};
      this.loaded = false;
      this.shown = "";
      el.inbox.textContent = "";
      el.inboxNote.textContent = "";
      el.inboxEmpty.hidden = false;
    }
  };

  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    var time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    var today = new Date();
    if (d.toDateString() === today.toDateString()) return time;
    return d.toLocaleDateString([], { day: "numeric", month: "short" }) + " " + time;
  }

  function smsItem(m, isNew) {
    var li = document.createElement("li");
    li.className = "sms" + (isNew ? " is-new" : "");
    li.setAttribute("data-id", m.id);
    var meta = document.createElement("div");
    meta.className = "sms-meta";
    var time = document.createElement("time");
    time.dateTime = m.received_at;
    time.textContent = formatTime(m.received_at);
    meta.appendChild(time);
    meta.appendChild(line("sms-parts", m.parts + (m.parts === 1 ? " part" : " parts")));
    meta.appendChild(line("sms-length", m.text.length + " characters"));
    var text = document.createElement("p");
    text.className = "sms-text";
    text.textContent = m.text;
    li.appendChild(meta);
    li.appendChild(text);
    return li;
  }

  function showInbox(body) {
    el.inboxNote.textContent = body.note || "";
    var messages = body.messages || [];
    var ids = messages.map(function (m) { return m.id; }).join(",");
    if (ids === inbox.shown) return; // nothing new: leave the list (and screen readers) alone
    var list = document.createDocumentFragment();
    messages.forEach(function (m) {
      list.appendChild(smsItem(m, inbox.loaded && !inbox.seen[m.id]));
      inbox.seen[m.id] = true;
    });
    el.inbox.textContent = "";
    el.inbox.appendChild(list);
    el.inboxEmpty.hidden = messages.length > 0;
    inbox.shown = ids;
    inbox.loaded = true;
  }

  function pollInbox() {
    window.clearTimeout(inbox.timer);
    var seq = ++inbox.pollSeq;
    var number = phone.number;
    function again() {
      if (seq === inbox.pollSeq) inbox.timer = window.setTimeout(pollInbox, POLL_MS);
    }
    if (document.hidden && inbox.loaded) { again(); return; } // nobody is looking: skip this round
    fetch(INBOX_URL + "?phone=" + encodeURIComponent(number), { cache: "no-store" }).then(function (resp) {
      return resp.json().then(function (body) {
        if (seq !== inbox.pollSeq || number !== phone.number) return;
        if (resp.ok) showInbox(body);
        else el.inboxNote.textContent = body.error || "The inbox cannot be read.";
      });
    }).catch(function () {
      if (seq === inbox.pollSeq) el.inboxNote.textContent = "The simulator cannot be reached; trying again.";
    }).then(again);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && phone.number) pollInbox();
  });

  // ---- start -----------------------------------------------------------------------------------

  tick();
  window.setInterval(tick, 15000);
  render();
  var remembered = null;
  try { remembered = window.localStorage.getItem(STORAGE_KEY); } catch (e) { /* private mode */ }
  if (remembered && /^\+256\d{9}$/.test(remembered)) selectRadioFor(remembered);
  useNumber(el.numbers.querySelector('input[name="number"]:checked').value);
})();
