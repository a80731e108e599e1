/* dyag report: rate the answers (correct / partly / wrong), export and import ratings JSONL.
   Ratings live in the page's articles (data-rating, data-rater) and in localStorage when the
   browser allows it (file:// pages may not). Text from files goes in with textContent/value only. */
(function () {
  "use strict";
  var bar = document.getElementById("rate-bar");
  if (!bar) { return; }
  var VALUES = ["correct", "partly", "wrong"];
  var storageKey = bar.getAttribute("data-storage-key");
  var raterInput = document.getElementById("rate-rater");
  var countEl = document.getElementById("rate-count");
  var statusEl = document.getElementById("rate-status");
  var answers = Array.prototype.slice.call(document.querySelectorAll("article.answer[data-sha256]"));
  var byKey = {};

  function keyOf(id, system) { return JSON.stringify([String(id), String(system)]); }
  function commentOf(el) { return el.querySelector(".rate-comment"); }
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) { return k in values ? String(values[k]) : m; });
  }
  answers.forEach(function (el) { byKey[keyOf(el.getAttribute("data-id"), el.getAttribute("data-system"))] = el; });

  function show(el, rating) {
    if (rating) { el.setAttribute("data-rating", rating); } else { el.removeAttribute("data-rating"); }
    Array.prototype.forEach.call(el.querySelectorAll(".rate-btn"), function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-value") === rating ? "true" : "false");
    });
  }
  /* A rating read from a file keeps its rater (data-rater); one given here takes the toolbar's name. */
  function apply(el, r) {
    show(el, VALUES.indexOf(r.rating) >= 0 ? r.rating : null);
    commentOf(el).value = typeof r.comment === "string" ? r.comment : "";
    if (typeof r.rater === "string" && r.rater !== "") { el.setAttribute("data-rater", r.rater); }
    else { el.removeAttribute("data-rater"); }
  }
  function record(el) {
    return {
      id: el.getAttribute("data-id"),
      system: el.getAttribute("data-system"),
      answer_sha256: el.getAttribute("data-sha256"),
      rating: el.getAttribute("data-rating"),
      comment: commentOf(el).value,
      rater: el.hasAttribute("data-rater") ? el.getAttribute("data-rater") : raterInput.value
    };
  }
  function rated() {
    return answers.filter(function (el) { return el.hasAttribute("data-rating"); }).map(record);
  }
  function refreshCount() { countEl.textContent = String(rated().length); }

  function save() {
    var kept = answers.filter(function (el) {
      return el.hasAttribute("data-rating") || commentOf(el).value !== "";
    }).map(function (el) {
      var r = record(el);
      r.rater = el.hasAttribute("data-rater") ? r.rater : null;
      return r;
    });
    try {
      window.localStorage.setItem(storageKey, JSON.stringify({rater: raterInput.value, ratings: kept}));
    } catch (e) { /* no storage for this page (file://, private mode): the page still holds the ratings */ }
  }
  function restore() {
    var state = null;
    try { state = JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { state = null; }
    if (!state || typeof state !== "object") { return; }
    if (typeof state.rater === "string" && !raterInput.value) { raterInput.value = state.rater; }
    (Array.isArray(state.ratings) ? state.ratings : []).forEach(function (r) {
      var el = r && typeof r === "object" ? byKey[keyOf(r.id, r.system)] : null;
      if (el && r.answer_sha256 === el.getAttribute("data-sha256")) { apply(el, r); }
    });
  }

  function importText(text) {
    var counts = {n: 0, stale: 0, unknown: 0, bad: 0};
    text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach(function (line) {
      if (!line.trim()) { return; }
      var r;
      try { r = JSON.parse(line); } catch (e) { counts.bad++; return; }
      if (!r || typeof r !== "object" || typeof r.id !== "string" || typeof r.system !== "string" ||
          VALUES.indexOf(r.rating) < 0) { counts.bad++; return; }
      var el = byKey[keyOf(r.id, r.system)];
      if (!el) { counts.unknown++; return; }
      if (String(r.answer_sha256 || "").toLowerCase() !== el.getAttribute("data-sha256")) { counts.stale++; return; }
      apply(el, r);
      counts.n++;
    });
    refreshCount();
    save();
    statusEl.textContent = fill(bar.getAttribute("data-msg-imported"), counts);
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target && ev.target.closest ? ev.target.closest(".rate-btn") : null;
    var el = button ? button.closest("article.answer[data-sha256]") : null;
    if (!el) { return; }
    var value = button.getAttribute("data-value");
    show(el, el.getAttribute("data-rating") === value ? null : value);
    el.removeAttribute("data-rater");
    refreshCount();
    save();
  });
  document.addEventListener("input", function (ev) {
    var el = ev.target && ev.target.classList && ev.target.classList.contains("rate-comment")
      ? ev.target.closest("article.answer[data-sha256]") : null;
    if (el) { el.removeAttribute("data-rater"); save(); }
  });
  raterInput.addEventListener("input", save);

  document.getElementById("rate-export").addEventListener("click", function () {
    var lines = rated().map(function (r) { return JSON.stringify(r); });
    var blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")], {type: "application/x-ndjson"});
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "ratings.jsonl";
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  });
  document.getElementById("rate-import").addEventListener("change", function (ev) {
    var input = ev.target;
    var file = input.files && input.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { importText(String(reader.result)); input.value = ""; };
    reader.onerror = function () { statusEl.textContent = bar.getAttribute("data-msg-unreadable"); };
    reader.readAsText(file, "utf-8");
  });

  restore();
  refreshCount();
  bar.setAttribute("data-ready", "1");  /* the buttons work: shown to tests and styles */
}());

/* The questions' filters: all, failing a rule, newly failing a rule against the baseline, answered
   differently by two systems (one scores at or above the threshold, the other below), or where a
   person's rating (stored or given here) disagrees with the score. */
(function () {
  "use strict";
  var bar = document.getElementById("q-filters");
  if (!bar) { return; }
  var threshold = parseFloat(bar.getAttribute("data-threshold")) || 5;
  var countEl = document.getElementById("q-filter-count");
  var questions = Array.prototype.slice.call(document.querySelectorAll("details.q"));
  var selA = document.getElementById("q-filter-a");
  var selB = document.getElementById("q-filter-b");

  function score(el) {
    var v = el ? parseFloat(el.getAttribute("data-score")) : NaN;
    return isNaN(v) ? null : v;
  }
  function answerOf(q, system) {
    var found = null;
    Array.prototype.forEach.call(q.querySelectorAll("article.answer"), function (a) {
      if (a.getAttribute("data-system") === system) { found = a; }
    });
    return found;
  }
  var tests = {
    all: function () { return true; },
    failing: function (q) { return q.getAttribute("data-failing") === "1"; },
    regressed: function (q) { return q.getAttribute("data-regressed") === "1"; },
    different: function (q) {
      var a = score(answerOf(q, selA ? selA.value : "")), b = score(answerOf(q, selB ? selB.value : ""));
      return a !== null && b !== null && (a >= threshold) !== (b >= threshold);
    },
    disagree: function (q) {
      return Array.prototype.some.call(q.querySelectorAll("article.answer[data-rating]"), function (a) {
        var rating = a.getAttribute("data-rating"), s = score(a);
        return s !== null && rating !== "partly" && (rating === "correct") !== (s >= threshold);
      });
    }
  };
  function current() {
    var checked = bar.querySelector("input[name=q-filter]:checked");
    return checked ? checked.value : "all";
  }
  function apply() {
    var test = tests[current()] || tests.all, shown = 0;
    questions.forEach(function (q) {
      var keep = test(q);
      q.hidden = !keep;
      if (keep) { shown += 1; }
    });
    countEl.textContent = String(bar.getAttribute("data-msg-shown") || "{n}/{total}")
      .replace("{n}", String(shown)).replace("{total}", String(questions.length));
    bar.setAttribute("data-shown", String(shown));
  }
  /* a link may name the filter: report.html#filter=failing */
  var asked = /(?:^#|&)filter=(\w+)/.exec(window.location.hash || "");
  if (asked && tests[asked[1]]) {
    var radio = bar.querySelector("input[name=q-filter][value=" + asked[1] + "]");
    if (radio) { radio.checked = true; }
  }
  bar.addEventListener("change", apply);
  document.addEventListener("click", function (e) {
    if (e.target && e.target.classList && e.target.classList.contains("rate-btn") && current() === "disagree") {
      window.setTimeout(apply, 0);
    }
  });
  apply();
  bar.setAttribute("data-ready", "1");
}());
