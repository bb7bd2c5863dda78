// Keyboard triage on the entries page, after miniflux: j/k move a highlight, a approves and r
// rejects the highlighted pending entry, o opens it, ? shows the help; on an entry's page 1-9
// pick a criterion of the score form. No dependencies, and
// nothing inline, so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";
  var entries = Array.prototype.slice.call(document.querySelectorAll("li.entry"));
  var help = document.getElementById("help");
  // After a verdict the page reloads without the decided entry; remembering the position
  // puts the highlight on the entry that took its place.
  var memo = "dashboard.cursor:" + location.pathname + location.search;
  var cur = -1;

  function select(i) {
    if (!entries.length) return;
    i = Math.max(0, Math.min(entries.length - 1, i));
    if (cur >= 0) entries[cur].classList.remove("current");
    cur = i;
    entries[cur].classList.add("current");
    entries[cur].scrollIntoView({ block: "nearest" });
  }

  function submit(kind) {
    if (cur < 0) return;
    var button = entries[cur].querySelector("button." + kind);
    if (!button) return; // already decided: nothing to submit
    try { sessionStorage.setItem(memo, String(cur)); } catch (e) { /* storage off */ }
    button.click();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) return;
    switch (ev.key) {
      case "j": select(cur + 1); break;
      case "k": select(cur - 1); break;
      case "a": submit("approve"); break;
      case "r": submit("reject"); break;
      case "o": if (cur >= 0) entries[cur].querySelector("a.media").click(); break;
      case "?": if (help) help.hidden = !help.hidden; break;
      case "Escape": if (help) help.hidden = true; break;
      default:
        // 1-9 pick a criterion of the score form on an entry's page; typing then scores it.
        var field = /^[1-9]$/.test(ev.key) && document.getElementById("score-" + (Number(ev.key) - 1));
        if (!field) return;
        field.focus();
        field.select();
    }
    ev.preventDefault();
  });

  entries.forEach(function (el, i) {
    el.addEventListener("click", function () { select(i); });
  });

  // A second press while the first verdict is on its way would only earn a conflict message.
  document.addEventListener("submit", function (ev) {
    var buttons = ev.target.querySelectorAll("button");
    setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });

  var saved = null;
  try { saved = sessionStorage.getItem(memo); sessionStorage.removeItem(memo); } catch (e) { /* storage off */ }
  if (entries.length) select(parseInt(saved, 10) || 0);
})();

// Live lists: an element with data-live (the inbox's newest page, a conversation's
// transcript) is fetched again every few seconds and replaced when it changed, so new
// messages appear without a reload. Without script the page is the same, only still.
(function () {
  "use strict";
  var live = Array.prototype.slice.call(document.querySelectorAll("[data-live][id]"));
  if (!live.length || !window.fetch || !window.DOMParser) return;
  var every = 5000;
  function poll() {
    if (document.hidden) return;
    live.forEach(function (el) {
      fetch(el.getAttribute("data-live"), { credentials: "same-origin", headers: { "X-Live": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(el.id);
          if (!fresh || fresh.innerHTML === el.innerHTML) return;
          var atBottom = el.getBoundingClientRect().bottom <= window.innerHeight + 40;
          el.innerHTML = fresh.innerHTML;
          el.setAttribute("data-updated", String(Date.now()));
          if (atBottom && el.tagName === "OL") el.lastElementChild && el.lastElementChild.scrollIntoView({ block: "nearest" });
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    });
  }
  setInterval(poll, every);
})();
