/* Search with the Pagefind index named by the form's data-bundle: no request leaves the site, paths stay relative. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !("fetch" in window)) return;
  var input = form.querySelector("input[type=search]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var root = form.getAttribute("data-root");
  var bundle = new URL(form.getAttribute("data-bundle"), document.baseURI).href;
  var pageLang = document.documentElement.lang;
  var others = (form.getAttribute("data-languages") || "").split(" ").filter(function (l) {
    return l && l !== pageLang;
  });
  var engine = null;

  function load() {
    // One index per language: the page's own, and the others merged in.
    engine = engine || import(bundle + "pagefind.js").then(function (pagefind) {
      return pagefind.options({ baseUrl: "/" }).then(function () {
        return Promise.all(others.map(function (lang) {
          return pagefind.mergeIndex(bundle, { language: lang });
        }));
      }).then(function () { return pagefind; });
    });
    return engine;
  }

  var siteRoot = new URL(root, document.baseURI).href;
  function relativeUrl(url) {
    // The page's own index gives "/2025/x/index.html"; a merged one may give it absolute.
    return url.indexOf(siteRoot) === 0 ? url.slice(siteRoot.length) : url.replace(/^\//, "");
  }

  function say(text) {
    // "Indonesian / English": the English half is marked as such for screen readers.
    var parts = text.split(" / ");
    status.textContent = parts[0];
    if (parts.length > 1) {
      var en = document.createElement("span");
      en.lang = "en";
      en.textContent = " / " + parts.slice(1).join(" / ");
      status.appendChild(en);
    }
  }

  function excerpt(html) {
    // Pagefind marks hits with <mark>; keep only text and <mark>, parsed inertly.
    var doc = new DOMParser().parseFromString("<p>" + html + "</p>", "text/html");
    var p = document.createElement("p");
    p.className = "search-excerpt";
    doc.body.firstChild.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        p.appendChild(mark);
      } else {
        p.appendChild(document.createTextNode(node.textContent));
      }
    });
    return p;
  }

  function show(items) {
    list.textContent = "";
    items.forEach(function (data) {
      var li = document.createElement("li");
      var lang = (data.meta && data.meta.lang) || "";
      if (lang && lang !== pageLang) li.lang = lang;
      var a = document.createElement("a");
      a.className = "speech-link";
      a.href = root + relativeUrl(data.url);
      a.textContent = (data.meta && data.meta.title) || data.url;
      li.appendChild(a);
      li.appendChild(excerpt(data.excerpt || ""));
      list.appendChild(li);
    });
  }

  function run(query) {
    query = query.trim();
    if (!query) { list.textContent = ""; say(""); return; }
    say(form.getAttribute("data-searching"));
    load().then(function (pagefind) {
      return pagefind.search(query);
    }).then(function (search) {
      return Promise.all(search.results.slice(0, 20).map(function (r) { return r.data(); }));
    }).then(function (items) {
      show(items);
      say(items.length ? items.length + " " + form.getAttribute("data-found") : form.getAttribute("data-none"));
    }).catch(function () {
      engine = null;
      say(form.getAttribute("data-unavailable"));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run(input.value);
    if (window.history && history.replaceState && location.protocol !== "file:") {
      history.replaceState(null, "", "?q=" + encodeURIComponent(input.value.trim()));
    }
  });
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; run(initial); }
})();
