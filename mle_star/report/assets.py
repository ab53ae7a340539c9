"""The report page's inline style and script (no CDN: the page must work offline).

The script is progressive: without it every tree link still opens its node through CSS
``:target``; with it the chosen node is marked in the tree and its code is highlighted by a
small Python tokenizer (comments, strings, numbers, keywords, builtins, decorators, names
after def/class), filled in lazily from one JSON map so each distinct script is stored once.
"""

STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;
 background:#fff}
main{max-width:1320px;margin:0 auto;padding:16px 24px 40px}
h1{font-size:22px;margin:6px 0 10px}
h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid #e3e3e3}
h3{font-size:15px;margin:16px 0 6px}
h4{font-size:13px;margin:12px 0 4px;color:#444}
a{color:#0b57d0}
p,li,td,dd{overflow-wrap:anywhere}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #e6e8eb;border-radius:4px;padding:8px;margin:4px 0;
 overflow:auto;max-width:100%;max-height:560px;white-space:pre}
pre.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0;max-width:100%}
td,th{border:1px solid #dedede;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}
th{background:#f4f5f7;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
.kv dt{color:#555;font-weight:600}.kv dd{margin:0;min-width:0}
.warn{background:#fff4e5;border:1px solid #f0b46a;border-radius:4px;padding:6px 10px;margin:8px 0}
.error{background:#fdecea;border:1px solid #e7a1a1;border-radius:4px;padding:6px 10px;margin:8px 0}
.summary li{margin:3px 0}
.est{font-size:11px;background:#eef;border:1px solid #ccd;border-radius:3px;padding:0 4px;color:#336;
 white-space:nowrap}
svg.plot{display:block;width:100%;height:auto;max-width:100%}
.legend{font-size:12px;margin:2px 0;display:flex;flex-wrap:wrap;gap:4px 14px}
.legend svg{vertical-align:middle}
#explorer{display:grid;grid-template-columns:minmax(260px,380px) minmax(0,1fr);gap:16px;align-items:start}
#tree{position:sticky;top:8px;max-height:calc(100vh - 16px);overflow:auto;border:1px solid #e3e3e3;
 border-radius:4px;padding:6px 4px;background:#fcfcfd}
#tree ul{list-style:none;margin:0;padding-left:14px}
#tree>ul{padding-left:2px}
#tree li{margin:0;border-left:1px dotted #ccc;padding-left:4px}
#tree>ul>li{border-left:0}
#tree .group{font-weight:600;font-size:12px;color:#555;margin-top:6px}
a.node{display:flex;gap:6px;align-items:baseline;text-decoration:none;color:#1d1d1f;padding:1px 4px;
 border-radius:3px;font-size:12.5px;white-space:nowrap}
a.node:hover{background:#eef3fd}
a.node.sel{background:#d7e4fc}
a.node .nm{overflow:hidden;text-overflow:ellipsis}
a.node .sc{margin-left:auto;font-variant-numeric:tabular-nums;color:#333}
a.node .sc.own{font-style:italic;color:#777}
.kd{font-size:10.5px;border-radius:3px;padding:0 4px;background:#eee;color:#333;flex:none}
.kd-candidate{background:#dbe9f8}.kd-merge{background:#e8dcf5}.kd-data_usage{background:#eadfd6}
.kd-ablation{background:#f3f0c8}.kd-refinement{background:#d8f0d8}.kd-ensemble{background:#fde2c8}
.kd-submission{background:#f8d4d4}.kd-fallback{background:#ddd}.kd-debug{background:#ffe0e0}
.st{font-size:11px;font-weight:600;border-radius:3px;padding:0 4px;white-space:nowrap}
.st-ok{color:#17692d}.st-failed{color:#b3261e}.st-untrusted{color:#a15c00}.st-not-run{color:#777}
a.node.st-failed .nm,a.node.st-not-run .nm{color:#b3261e}
.mark{color:#b8860b;flex:none}
#details{min-width:0}
.node-detail{display:none;border:1px solid #e3e3e3;border-radius:4px;padding:4px 14px 12px}
.node-detail:target{display:block}
.js .node-detail:target{display:none}
.js .node-detail.shown{display:block}
#details .hint{color:#666}
.js #details .hint.hide{display:none}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:1px 12px;font-size:13px;margin:6px 0}
.facts dt{color:#555}.facts dd{margin:0;min-width:0}
.notes{margin:6px 0;padding-left:18px}
ul.files{columns:2 220px;font-size:12px;padding-left:18px;margin:4px 0}
details>summary{cursor:pointer;font-weight:600;font-size:13px;margin:8px 0 2px}
pre.diff .add{color:#116329;background:#e6ffec}pre.diff .del{color:#82071e;background:#ffebe9}
pre.diff .hunk{color:#6f42c1}
pre.code .k{color:#cf222e}pre.code .s{color:#0a3069}pre.code .c{color:#6e7781;font-style:italic}
pre.code .n{color:#0550ae}pre.code .b{color:#8250df}pre.code .f{color:#6639ba;font-weight:600}
pre.code .d{color:#953800}
tr.big td{background:#fff8d6}
.step{border-left:3px solid #d0d7de;padding-left:12px;margin:12px 0}
@media (max-width:900px){
 main{padding:12px}
 #explorer{grid-template-columns:minmax(0,1fr)}
 #tree{position:static;max-height:360px}
}
@media (max-width:600px){
 .kv{grid-template-columns:minmax(0,1fr)}
 .kv dt{margin-top:4px}
}
"""

SCRIPT = r"""
(function () {
  document.documentElement.classList.add('js');
  var codes = JSON.parse(document.getElementById('codes').textContent);
  var KW = new Set(('False None True and as assert async await break class continue def del elif else except ' +
    'finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match ' +
    'case').split(' '));
  var BI = new Set(('abs all any bool dict enumerate float getattr hasattr int isinstance len list map max min ' +
    'next object open print range repr round set sorted str sum super tuple type zip Exception ValueError ' +
    'KeyError TypeError RuntimeError self').split(' '));
  var TOKEN = /(#[^\n]*)|((?:[rRbBuUfF]{1,2})?(?:"{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))|(@[A-Za-z_][\w.]*)|(\b\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?j?\b)|([A-Za-z_]\w*)/g;
  function esc(s) { return s.replace(/[&<>]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;'}[c]; }); }
  function highlight(src) {
    var out = [], last = 0, prev = '', m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(src)) !== null) {
      out.push(esc(src.slice(last, m.index)));
      var t = m[0], cls = '';
      if (m[1]) cls = 'c'; else if (m[2]) cls = 's'; else if (m[3]) cls = 'd'; else if (m[4]) cls = 'n';
      else if (prev === 'def' || prev === 'class') cls = 'f';
      else if (KW.has(t)) cls = 'k'; else if (BI.has(t)) cls = 'b';
      out.push(cls ? '<span class="' + cls + '">' + esc(t) + '</span>' : esc(t));
      prev = m[5] ? t : '';
      last = TOKEN.lastIndex;
    }
    out.push(esc(src.slice(last)));
    return out.join('');
  }
  var current = null;
  function show(id, scroll) {
    var el = id && document.getElementById(id);
    if (!el || !el.classList.contains('node-detail')) return false;
    if (current) current.classList.remove('shown');
    document.querySelectorAll('a.node.sel').forEach(function (a) { a.classList.remove('sel'); });
    el.classList.add('shown');
    current = el;
    el.querySelectorAll('pre.code[data-code]').forEach(function (pre) {
      if (!pre.dataset.done) { pre.innerHTML = highlight(codes[pre.dataset.code] || ''); pre.dataset.done = '1'; }
    });
    var hint = document.querySelector('#details .hint');
    if (hint) hint.classList.add('hide');
    var link = document.querySelector('#tree a.node[href="#' + id + '"]');
    if (link) {
      link.classList.add('sel');
      var tree = document.getElementById('tree'), lr = link.getBoundingClientRect(), tr = tree.getBoundingClientRect();
      if (lr.top < tr.top || lr.bottom > tr.bottom) tree.scrollTop += lr.top - tr.top - tr.height / 3;
    }
    if (scroll) document.getElementById('explorer').scrollIntoView({block: 'start'});
    return true;
  }
  window.addEventListener('hashchange', function () { show(location.hash.slice(1), true); });
  if (!show(location.hash.slice(1), true)) show(document.body.dataset.start, false);
})();
"""
