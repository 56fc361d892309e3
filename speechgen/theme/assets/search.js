/* Search with the Pagefind index: one bundle per shard, named with its languages in the form's
   data-bundles ("../pagefind/id-0/:id ../pagefind/en-0/:en"), merged at the first query, and the
   recent bundle that data-recent's list names: the pages changed since their shard was indexed,
   whose old entries ("hidden") are left out of the results. No request leaves the site; paths stay
   relative. Results come while typing (after a pause of DELAY ms), SHOWN at a time, each with its
   date and, on a site with several languages, its language. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !("fetch" in window)) return;
  var input = form.querySelector("input[type=search]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var root = form.getAttribute("data-root");
  var pageLang = document.documentElement.lang;
  var words = document.getElementById("search-words");
  var DELAY = 250;
  var SHOWN = 5;       // each result's fragment holds its page's whole text: a few at a time
  var bundles = (form.getAttribute("data-bundles") || "").split(" ").filter(Boolean).map(function (item) {
    var at = item.lastIndexOf(":");
    return { url: new URL(item.slice(0, at), document.baseURI).href, langs: item.slice(at + 1).split(",") };
  });
  var recentList = form.getAttribute("data-recent");
  var hidden = {};
  var engine = null;

  function recent() {
    // The recent bundle (or none) and the shard entries it replaces.
    if (!recentList) return Promise.resolve(null);
    var listUrl = new URL(recentList, document.baseURI);
    return fetch(listUrl.href).then(function (response) {
      if (!response.ok) throw new Error("no recent list");
      return response.json();
    }).then(function (listed) {
      hidden = {};
      (listed.hidden || []).forEach(function (id) { hidden[id] = true; });
      return listed.bundle ? { url: new URL(listed.bundle, listUrl).href, langs: listed.languages || [] } : null;
    });
  }

  function load() {
    // The first shard's engine, in the page's language where that shard has it; every other
    // (shard, language) index merged in. On the main thread: no worker script to fetch.
    if (!bundles.length) return Promise.reject(new Error("no search index"));
    var first = bundles[0];
    var firstLang = first.langs.indexOf(pageLang) >= 0 ? pageLang : first.langs[0];
    engine = engine || Promise.all([import(first.url + "pagefind.js"), recent()]).then(function (loaded) {
      var pagefind = loaded[0];
      var all = loaded[1] ? bundles.concat([loaded[1]]) : bundles;
      return pagefind.options({ baseUrl: "/", noWorker: true }).then(function () {
        var merges = [];
        all.forEach(function (bundle) {
          bundle.langs.forEach(function (lang) {
            if (bundle !== first || lang !== firstLang) {
              merges.push(pagefind.mergeIndex(bundle.url, { language: lang, baseUrl: "/" }));
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

  function say(key, n) {
    // The page's words, then the site's other languages' (each already marked with its lang),
    // copied from the page's <template id="search-words">.
    status.textContent = "";
    var source = key && words && words.content.querySelector('[data-say="' + key + '"]');
    if (!source) return;
    source.childNodes.forEach(function (node) {
      var copy = document.importNode(node, true);
      status.appendChild(copy);
    });
    if (n !== undefined) {
      var walker = document.createTreeWalker(status, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) walker.currentNode.nodeValue = walker.currentNode.nodeValue.replace("{n}", n);
    }
  }

  function languageName(code) {
    var name = words && words.content.querySelector('[data-language="' + code + '"]');
    return name ? name.textContent : "";
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
    items.forEach(function (data) {
      var li = document.createElement("li");
      var lang = (data.meta && data.meta.lang) || "";
      // a result in another language keeps its own lang, and its own direction (dir=auto isolates it)
      if (lang && lang !== pageLang) { li.lang = lang; li.dir = "auto"; }
      var a = document.createElement("a");
      a.className = "speech-link";
      a.href = root + relativeUrl(data.url);
      a.textContent = (data.meta && data.meta.title) || data.url;
      li.appendChild(a);
      var meta = data.meta || {};
      var facts = [];
      if (meta.date) {
        var time = document.createElement("time");
        if (/^\d{4}-\d{2}-\d{2}$/.test(meta.date_iso || "")) time.dateTime = meta.date_iso;
        time.textContent = meta.date;
        facts.push(time);
      }
      if (languageName(lang)) facts.push(document.createTextNode(languageName(lang)));
      if (facts.length) {
        var line = document.createElement("span");
        line.className = "speech-meta";
        facts.forEach(function (fact, i) {
          if (i) line.appendChild(document.createTextNode(" · "));
          line.appendChild(fact);
        });
        li.appendChild(line);
      }
      li.appendChild(excerpt(data.excerpt || ""));
      list.appendChild(li);
    });
  }

  var latest = 0;      // a query answered after a newer one was asked is not shown
  var shown = null;    // the query whose results are on the page
  var found = [];      // its results not yet shown
  function showMore(asked) {
    // The next SHOWN results: their fragments fetched, then added to the list.
    var next = found.splice(0, SHOWN);
    more.hidden = true;
    return Promise.all(next.map(function (r) { return r.data(); })).then(function (items) {
      if (asked !== latest) return;
      show(items);
      more.hidden = !found.length;
    });
  }

  function run(query) {
    query = query.trim();
    if (query === shown) return;
    var asked = ++latest;
    shown = query;
    found = [];
    more.hidden = true;
    if (!query) { list.textContent = ""; say(""); return; }
    say("searching");
    load().then(function (pagefind) {
      return pagefind.search(query);
    }).then(function (search) {
      if (asked !== latest) return;
      var seen = {};
      found = search.results.filter(function (r) {
        var keep = !hidden[r.id] && !seen[r.id];
        seen[r.id] = true;
        return keep;
      });
      var count = found.length;
      list.textContent = "";
      return showMore(asked).then(function () {
        if (asked !== latest) return;
        if (count === 1) say("search_found_one");
        else if (count) say("search_found", count);
        else say("search_none");
      });
    }).catch(function () {
      engine = null;
      shown = null;
      if (asked === latest) say("search_unavailable");
    });
    if (window.history && history.replaceState && location.protocol !== "file:") {
      history.replaceState(null, "", "?q=" + encodeURIComponent(query));
    }
  }

  more.addEventListener("click", function () {
    var first = list.children.length;
    showMore(latest).then(function () {
      // the first new result takes the focus, so a keyboard or screen reader goes on from there
      var link = list.children[first] && list.children[first].querySelector("a");
      if (link) link.focus();
    });
  });

  // The engine, its entries and metadata are fetched when the field takes the focus, while the
  // reader types; a query then fetches only its words' chunks and its results' fragments.
  input.addEventListener("focus", function () {
    load().catch(function () { engine = null; });
  });

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, DELAY);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; run(initial); }
})();
