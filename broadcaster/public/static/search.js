// Filters the procedure list as you type, without a round trip (and in the static export, where
// there is no server to search). Without JavaScript the form asks the server (?q=...).
(function () {
  "use strict";
  var input = document.getElementById("q");
  if (!input) return;
  function fold(s) {
    return s.replace(/đ/g, "d").replace(/Đ/g, "d").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().replace(/\s+/g, " ").trim();
  }
  function apply() {
    var words = fold(input.value).split(" ").filter(Boolean);
    var shown = 0;
    document.querySelectorAll("section.field").forEach(function (sec) {
      var any = false;
      sec.querySelectorAll("li[data-search]").forEach(function (li) {
        var hay = li.getAttribute("data-search");
        var ok = words.every(function (w) { return hay.indexOf(w) >= 0; });
        li.hidden = !ok;
        if (ok) { any = true; shown++; }
      });
      sec.hidden = !any;
    });
    document.getElementById("no-results").hidden = shown > 0;
  }
  input.addEventListener("input", apply);
  input.form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  apply();
})();
