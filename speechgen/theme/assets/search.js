/* Search with the Pagefind index: one bundle per shard, named with its languages in the form's
   data-bundles ("../pagefind/id-0/:id ../pagefind/en-0/:en"), merged at the first query, and the
   recent bundle that data-recent's list names: the pages changed since their shard was indexed,
   whose old entries ("hidden") are left out of the results. No request leaves the site; paths stay
   relative. Results come while typing (after a pause of DELAY ms), SHOWN at a time, each with its
   date and, on a site with several languages, its language.
   Counted honestly: Pagefind finds a word also as the start of a longer one ("gettysburg" would
   bring "getting", both "get" to its English stemmer). The pages that hold every word of the query
   whole (Pagefind's exact search, one word at a time, since a quoted query is a phrase) come
   first and are counted; the others follow under their own heading, counted apart. Each result
   links to its page with the words it was found by (?highlight=), which highlight.js marks there. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !("fetch" in window)) return;
  var input = form.querySelector("input[type=search]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var partialList = document.getElementById("search-partial");
  var partialTitle = document.getElementById("search-partial-title");
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

  var script = null;

  function packed() {
    // The script as the build packed it (data-engine: gzip, a third of its bytes where a host sends
    // files as they are), unpacked here; as it is where the host unpacked it on the way.
    var packedUrl = form.getAttribute("data-engine");
    if (!packedUrl || !("DecompressionStream" in window)) return Promise.reject(new Error("no packed engine"));
    return fetch(new URL(packedUrl, document.baseURI).href).then(function (response) {
      if (!response.ok) throw new Error("no packed engine");
      return response.arrayBuffer();
    }).then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return new TextDecoder().decode(bytes);
      return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
    });
  }

  function engine_(bundle) {
    // A Pagefind of its own for one language, on that language's first bundle: a merged index is
    // searched with its engine's stemmer, so English merged into an Indonesian engine would not
    // find "getting" as a whole word. The engine takes the bundle's language when the bundle has
    // only one, as every shard has. Each engine is a module of its own (Pagefind keeps its
    // WebAssembly in the module), made from one script fetched once: every bundle's pagefind.js
    // is the same file, packed once by the build (`packed`). Where a blob cannot be a module (a
    // Content-Security-Policy), the bundle's.
    var own = bundle.url + "pagefind.js";
    script = script || packed().catch(function () {
      return fetch(own).then(function (response) {
        if (!response.ok) throw new Error("no search engine");
        return response.text();
      });
    }).then(function (text) { return new Blob([text], { type: "text/javascript" }); });
    return script.then(function (blob) {
      var url = URL.createObjectURL(blob);
      return import(url).finally(function () { URL.revokeObjectURL(url); });
    }).catch(function () { return import(own); }).then(function (pagefind) {
      return pagefind.options({ basePath: bundle.url, baseUrl: "/", noWorker: true }).then(function () { return pagefind; });
    });
  }

  function load() {
    // One engine per language (the page's first), each on the first shard that has it, every
    // other (shard, language) index merged into its language's engine. On the main thread: no
    // worker script to fetch. `search(query)` asks every engine; results come by Pagefind's score.
    if (!bundles.length) return Promise.reject(new Error("no search index"));
    engine = engine || recent().then(function (latestBundle) {
      var all = latestBundle ? bundles.concat([latestBundle]) : bundles;
      var langs = [];
      all.forEach(function (b) { b.langs.forEach(function (l) { if (langs.indexOf(l) < 0) langs.push(l); }); });
      langs.sort(function (a, b) { return (b === pageLang) - (a === pageLang); });
      var homes = {};       // language -> the bundle its engine starts from (a bundle's script serves one engine)
      var used = [];
      langs.forEach(function (lang) {
        var home = all.filter(function (b) { return b !== latestBundle && b.langs.indexOf(lang) >= 0 && used.indexOf(b) < 0; })[0];
        if (home) { homes[lang] = home; used.push(home); }
      });
      var engines = {};
      return Promise.all(langs.filter(function (l) { return homes[l]; }).map(function (lang) {
        return engine_(homes[lang]).then(function (pagefind) { engines[lang] = pagefind; });
      })).then(function () {
        var merges = [];
        all.forEach(function (bundle) {
          bundle.langs.forEach(function (lang) {
            if (homes[lang] !== bundle) {
              merges.push((engines[lang] || engines[langs[0]]).mergeIndex(bundle.url, { language: lang, baseUrl: "/" }));
            }
          });
        });
        return Promise.all(merges);
      }).then(function () {
        var list = Object.keys(engines).map(function (lang) { return engines[lang]; });
        return {
          search: function (query) {
            return Promise.all(list.map(function (pagefind) { return pagefind.search(query); })).then(function (answers) {
              var results = [];
              answers.forEach(function (answer) { results = results.concat(answer.results); });
              results.sort(function (a, b) { return b.score - a.score; });
              return { results: results };
            });
          }
        };
      });
    });
    return engine;
  }

  var siteRoot = new URL(root, document.baseURI).href;
  function relativeUrl(url) {
    // The page's own index gives "/2025/x/index.html"; a merged one may give it absolute.
    return url.indexOf(siteRoot) === 0 ? url.slice(siteRoot.length) : url.replace(/^\//, "");
  }

  function say(key, n, more) {
    // The page's words, then the site's other languages' (each already marked with its lang),
    // copied from the page's <template id="search-words">; `more` (a key and its count) is said after.
    status.textContent = "";
    [[key, n], more || []].forEach(function (said) {
      var source = said[0] && words && words.content.querySelector('[data-say="' + said[0] + '"]');
      if (!source) return;
      var sentence = document.createElement("span");
      source.childNodes.forEach(function (node) { sentence.appendChild(document.importNode(node, true)); });
      if (said[1] !== undefined) {
        var walker = document.createTreeWalker(sentence, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) walker.currentNode.nodeValue = walker.currentNode.nodeValue.replace("{n}", said[1]);
      }
      if (status.childNodes.length) status.appendChild(document.createTextNode(" "));
      status.appendChild(sentence);
    });
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

  function foundBy(data, query) {
    // The words of the page this result was found by (Pagefind's locations in its text), as the
    // parts of them that begin like a word of the query: "Gettysburg," gives "gettysburg".
    var terms = query.toLowerCase().replace(/"/g, " ").split(/\s+/).filter(Boolean);
    var text = (data.content || "").split(/\s+/);
    var out = [];
    (data.locations || []).forEach(function (at) {
      (text[at] || "").toLowerCase().split(/[^\p{L}\p{N}\p{M}]+/u).forEach(function (part) {
        var like = terms.some(function (term) {
          var stem = term.slice(0, Math.min(4, term.length));
          return part.indexOf(term) === 0 || term.indexOf(part) === 0 || (part.length >= stem.length && part.indexOf(stem) === 0);
        });
        if (part && like && out.indexOf(part) < 0) out.push(part);
      });
    });
    // where a word of the query is there whole, the longer words it begins are not what was meant
    out = out.filter(function (part) {
      return !terms.some(function (term) { return part !== term && part.indexOf(term) === 0 && out.indexOf(term) >= 0; });
    });
    return out.slice(0, 12);
  }

  function show(items, query) {
    items.forEach(function (data) {
      var li = document.createElement("li");
      var lang = (data.meta && data.meta.lang) || "";
      // a result in another language keeps its own lang, and its own direction (dir=auto isolates it)
      if (lang && lang !== pageLang) { li.lang = lang; li.dir = "auto"; }
      var a = document.createElement("a");
      a.className = "speech-link";
      var highlight = foundBy(data, query).map(function (w) { return "highlight=" + encodeURIComponent(w); }).join("&");
      a.href = root + relativeUrl(data.url) + (highlight ? "?" + highlight : "");
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
      if (data.partial) {
        partialTitle.hidden = partialList.hidden = false;
        partialList.appendChild(li);
      } else {
        list.appendChild(li);
      }
    });
  }

  var latest = 0;      // a query answered after a newer one was asked is not shown
  var shown = null;    // the query whose results are on the page
  var found = [];      // its results not yet shown
  function showMore(asked) {
    // The next SHOWN results: their fragments fetched, then added to the list.
    var next = found.splice(0, SHOWN);
    more.hidden = true;
    return Promise.all(next.map(function (r) {
      return r.data().then(function (data) { data.partial = r.partial; return data; });
    })).then(function (items) {
      if (asked !== latest) return;
      show(items, shown);
      more.hidden = !found.length;
    });
  }

  function wholeWords(pagefind, query) {
    // Which pages hold every word of the query whole (or in a form of it its language's stemmer
    // gives the same stem: "villages" for "village"): Pagefind's exact search, one word at a
    // time. A query the reader quoted is Pagefind's own phrase search: every result is whole.
    var terms = query.split(/\s+/).filter(Boolean);
    if (query.indexOf('"') >= 0 || !terms.length) return Promise.resolve(null);
    return Promise.all(terms.map(function (term) { return pagefind.search('"' + term + '"'); })).then(function (searches) {
      var sets = searches.map(function (search) {
        var ids = {};
        search.results.forEach(function (r) { ids[r.id] = true; });
        return ids;
      });
      return function (id) { return sets.every(function (ids) { return ids[id]; }); };
    });
  }

  function clear() {
    list.textContent = "";
    partialList.textContent = "";
    partialList.hidden = partialTitle.hidden = true;
  }

  function run(query) {
    query = query.trim();
    if (query === shown) return;
    var asked = ++latest;
    shown = query;
    found = [];
    more.hidden = true;
    if (!query) { clear(); say(""); return; }
    say("searching");
    load().then(function (pagefind) {
      return Promise.all([pagefind.search(query), wholeWords(pagefind, query)]);
    }).then(function (answers) {
      if (asked !== latest) return;
      var whole = answers[1];
      var seen = {};
      var kept = answers[0].results.filter(function (r) {
        var keep = !hidden[r.id] && !seen[r.id];
        seen[r.id] = true;
        r.partial = whole ? !whole(r.id) : false;
        return keep;
      });
      // whole words first, each group in Pagefind's order
      found = kept.filter(function (r) { return !r.partial; }).concat(kept.filter(function (r) { return r.partial; }));
      var count = found.length - kept.filter(function (r) { return r.partial; }).length;
      var partial = found.length - count;
      var after = partial === 1 ? ["search_partial_one"] : partial ? ["search_partial", partial] : null;
      clear();
      return showMore(asked).then(function () {
        if (asked !== latest) return;
        if (count === 1) say("search_found_one", undefined, after);
        else if (count) say("search_found", count, after);
        else if (partial) say("search_none_whole", undefined, after);
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
    var first = list.children.length + partialList.children.length;
    showMore(latest).then(function () {
      // the first new result takes the focus, so a keyboard or screen reader goes on from there
      var all = [].slice.call(list.children).concat([].slice.call(partialList.children));
      var link = all[first] && all[first].querySelector("a");
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
