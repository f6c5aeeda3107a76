  // Shared by the widgets' drawing code (grokkit/widgets/explorer.py: inline_js): an SVG element in `parent`.
  var NS = "http://www.w3.org/2000/svg";
  function el(parent, tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
