// The console's small scripts: live checks while composing, preview, device polling, confirmations.
// Every request carries the page's CSRF token in a header; times come formatted from the server.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  var headers = { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" };
  var words = document.body.dataset;  // the page's Vietnamese words (web/strings.py), set on <body>

  // A file input says "Choose File / No file chosen" in the browser's language: a Vietnamese button
  // and the chosen file's name instead (the input itself stays, hidden, and is what the form sends).
  document.querySelectorAll('input[type="file"]').forEach(function (input) {
    var wrap = document.createElement("span");
    wrap.className = "file-pick";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small";
    button.textContent = words.filePick;
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = words.fileNone;
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () { name.textContent = input.files.length ? input.files[0].name : words.fileNone; });
    input.classList.add("visually-hidden");
    input.after(wrap);
    wrap.appendChild(button);
    wrap.appendChild(name);
  });

  function post(url, body) {
    return fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
  }

  function showKind(form) {
    var kind = (form.querySelector('input[name="kind"]:checked') || {}).value || "now";
    form.querySelectorAll(".when").forEach(function (el) {
      el.hidden = el.dataset.kind.split(" ").indexOf(kind) < 0;
    });
  }

  function renderChecks(form, data) {
    form.querySelectorAll("[data-checks-for]").forEach(function (box) { box.textContent = ""; });
    function add(field, level, text) {
      var box = form.querySelector('[data-checks-for="' + field + '"]') || form.querySelector('[data-checks-for="schedule"]');
      if (!box) return;
      var p = document.createElement("p");
      p.className = level;
      p.textContent = text;
      box.appendChild(p);
    }
    Object.keys(data.errors || {}).forEach(function (f) { add(f, "error", data.errors[f]); });
    (data.checks || []).forEach(function (c) { add(c.field, c.level, c.text); });
    var spoken = document.getElementById("spoken");
    if (spoken) spoken.textContent = data.spoken || "";
    var length = document.getElementById("length");
    if (length) length.textContent = data.length || "";
  }

  var form = document.getElementById("compose");
  if (form) {
    showKind(form);
    var timer = null;
    var check = function () {
      var fd = new FormData(form);
      fd.delete("audio");
      post(form.action.replace("/preview", "/check"), fd).then(function (r) {
        if (r.status === 401) { location.reload(); return null; }
        if (r.status === 403) {  // e.g. a khu phố this account is not responsible for
          return r.text().then(function (html) {
            var box = form.querySelector('[data-checks-for="zones"]');
            if (box) box.innerHTML = html;  // rendered and escaped on the server
            return null;
          });
        }
        return r.ok ? r.json() : null;
      }).then(function (data) { if (data) renderChecks(form, data); }).catch(function () {});
    };
    form.addEventListener("input", function (ev) {
      if (ev.target.name === "kind") showKind(form);
      clearTimeout(timer);
      timer = setTimeout(check, 400);
    });
    form.addEventListener("change", function (ev) { if (ev.target.name === "kind") showKind(form); });
    if (form.querySelector("textarea").value) check();
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var out = document.getElementById("preview");
      var button = document.getElementById("preview-button");
      out.textContent = "…";
      out.setAttribute("aria-busy", "true");
      button.disabled = true;
      post(form.action, new FormData(form)).then(function (r) { return r.text(); }).then(function (html) {
        out.innerHTML = html;  // rendered and escaped on the server
        out.removeAttribute("aria-busy");
        out.scrollIntoView({ behavior: "smooth", block: "start" });
      }).catch(function () { out.textContent = words.networkError; }).finally(function () { button.disabled = false; });
    });
  }

  // The browser's own "please fill out this field" speaks the browser's language: say it in Vietnamese.
  document.addEventListener("invalid", function (ev) {
    var el = ev.target;
    if (!el.validity || !el.validity.valueMissing) return;
    el.setCustomValidity(el.type === "checkbox" ? words.requiredBox : words.required);
  }, true);
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (ev) { if (ev.target.setCustomValidity) ev.target.setCustomValidity(""); }, true);
  });

  // On a phone the tables become cards without their header row: each cell carries its column's name.
  function labelCells(root) {
    (root || document).querySelectorAll("table.list").forEach(function (table) {
      var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) { if (names[i]) td.setAttribute("data-label", names[i]); });
      });
    });
  }
  labelCells();

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) ev.preventDefault();
  }, true);

  var rows = document.querySelector("[data-poll]");
  if (rows) {
    setInterval(function () {
      if (document.activeElement && rows.contains(document.activeElement)) return;  // the officer is typing a volume
      fetch(rows.dataset.poll, { headers: headers, credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) { if (html !== null) { rows.innerHTML = html; labelCells(); } }).catch(function () {});
    }, 5000);
  }
})();
