/* The words a search result was found by, marked in the speech it opens: the search page links
   to "…/index.html?highlight=gettysburg&highlight=getting". Each word is marked where it stands
   whole in the text (not inside a longer word), and the first one is scrolled into view unless
   the address names a place (#p-12). Loaded by the speech page only when the address asks. */
(function () {
  "use strict";
  var body = document.querySelector(".speech-body");
  var wanted = new URLSearchParams(location.search).getAll("highlight").map(function (w) {
    return w.trim().toLowerCase();
  }).filter(function (w) { return w.length > 1; }).slice(0, 12);
  if (!body || !wanted.length) return;
  var pattern;
  try {
    var words = wanted.map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }).join("|");
    pattern = new RegExp("(?<![\\p{L}\\p{N}\\p{M}])(?:" + words + ")(?![\\p{L}\\p{N}\\p{M}])", "giu");
  } catch (e) {
    return;               // a browser without Unicode lookbehind: the page as it is
  }
  var texts = [];
  var walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.parentElement.closest("script, style, mark")) texts.push(walker.currentNode);
  }
  var first = null;
  texts.forEach(function (node) {
    var text = node.nodeValue;
    var at = 0;
    var parts = document.createDocumentFragment();
    pattern.lastIndex = 0;
    for (var m = pattern.exec(text); m; m = pattern.exec(text)) {
      parts.appendChild(document.createTextNode(text.slice(at, m.index)));
      var mark = document.createElement("mark");
      mark.className = "search-hit";
      mark.textContent = m[0];
      parts.appendChild(mark);
      first = first || mark;
      at = m.index + m[0].length;
    }
    if (!at) return;
    parts.appendChild(document.createTextNode(text.slice(at)));
    node.parentNode.replaceChild(parts, node);
  });
  if (first && !location.hash) first.scrollIntoView({ block: "center" });
})();
