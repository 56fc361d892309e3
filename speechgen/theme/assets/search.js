/* Search with the Pagefind index: one bundle per shard, named with its languages in the form's
   data-bundles ("../pagefind/0/:id,en ../pagefind/1/:id"), merged at the first query. No request
   leaves the site; paths stay relative. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !("fetch" in window)) return;
  var input = form.querySelector("input[type=search]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var root = form.getAttribute("data-root");
  var pageLang = document.documentElement.lang;
  var bundles = (form.getAttribute("data-bundles") || "").split(" ").filter(Boolean).map(function (item) {
    var at = item.lastIndexOf(":");
    return { url: new URL(item.slice(0, at), document.baseURI).href, langs: item.slice(at + 1).split(",") };
  });
  var engine = null;

  function load() {
    // The first shard's engine, in the page's language where that shard has it; every other
    // (shard, language) index merged in.
    if (!bundles.length) return Promise.reject(new Error("no search index"));
    var first = bundles[0];
    var firstLang = first.langs.indexOf(pageLang) >= 0 ? pageLang : first.langs[0];
    engine = engine || import(first.url + "pagefind.js").then(function (pagefind) {
      return pagefind.options({ baseUrl: "/" }).then(function () {
        var merges = [];
        bundles.forEach(function (bundle) {
          bundle.langs.forEach(function (lang) {
            if (bundle !== first || lang !== firstLang) {
              merges.push(pagefind.mergeIndex(bundle.url, { language: lang }));
            }
          });
        });
        return Promise.all(merges);
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
