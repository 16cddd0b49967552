from corpus_helpers import outline, texts

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <title>Page title is not body text</title>
  <style>body { color: red; }</style>
  <script>var hidden = "script text";</script>
</head>
<body>
<header><a href="/">Site header</a></header>
<nav><ul><li>Home</li><li>Docs</li></ul></nav>
<main>
  <h1>Forces &amp; Motion</h1>
  <p>Newton&#8217;s <em>second</em> law: <code>F = m a</code>.
     See <a href="/notes">the notes</a>.<br>Next line.</p>
  <h3>Friction</h3>
  <ul>
    <li>Static friction
      <ul><li>Nested item</li></ul>
    </li>
    <li>Kinetic friction</li>
  </ul>
  <blockquote>Friction converts energy into heat.</blockquote>
  <table>
    <tr><th>Quantity</th><th>Unit</th></tr>
    <tr><td>Force</td><td>newton</td></tr>
  </table>
  <dl><dt>Mass</dt><dd>Resistance to acceleration.</dd></dl>
  <pre>def force(m, a):
    return m * a</pre>
  <div>Text directly in a div.
    <p>A paragraph inside it.</p>
    And more div text.</div>
  <p>Unclosed paragraph one
  <p>Unclosed paragraph two</p>
  <noscript>Enable JavaScript</noscript>
  <template><p>Template text</p></template>
  <svg><text>Chart label</text></svg>
  <div hidden>Hidden text</div>
  <img src="x.png" alt="image alt text">
</main>
<aside>Related links</aside>
<footer>Copyright footer</footer>
</body>
</html>
"""


def test_html_keeps_visible_text_as_headings_and_paragraphs(read):
    assert outline(read("page.html", PAGE)) == [
        ("heading", "Forces & Motion", 1),
        ("paragraph", "Newton\u2019s second law: F = m a. See the notes. Next line."),
        ("heading", "Friction", 3),
        ("paragraph", "Static friction"),
        ("paragraph", "Nested item"),
        ("paragraph", "Kinetic friction"),
        ("paragraph", "Friction converts energy into heat."),
        ("paragraph", "Quantity"),
        ("paragraph", "Unit"),
        ("paragraph", "Force"),
        ("paragraph", "newton"),
        ("paragraph", "Mass"),
        ("paragraph", "Resistance to acceleration."),
        ("paragraph", "Text directly in a div."),
        ("paragraph", "A paragraph inside it."),
        ("paragraph", "And more div text."),
        ("paragraph", "Unclosed paragraph one"),
        ("paragraph", "Unclosed paragraph two"),
    ]


def test_html_drops_head_script_style_navigation_and_hidden_parts(read):
    text = read("page.htm", PAGE).text
    for gone in ("Page title", "color: red", "script text", "Site header", "Home", "Docs", "def force",
                 "Enable JavaScript", "Template text", "Chart label", "Hidden text", "image alt",
                 "Related links", "Copyright", "<", ">"):
        assert gone not in text


def test_html_heading_levels(read):
    page = "".join(f"<h{n}>Level {n}</h{n}><p>Body.</p>" for n in range(1, 7))
    result = read("levels.html", page)
    assert [b.level for b in result.blocks if b.kind == "heading"] == [1, 2, 3, 4, 5, 6]


def test_html_fragment_without_html_or_body_tags(read):
    assert texts(read("frag.html", "Loose text <b>bold</b> &lt;tag&gt;\n<p>Para</p>")) == [
        "Loose text bold <tag>", "Para"]
