from corpus_helpers import outline, texts

DOC = """---
title: Front matter is not text
tags: [a, b]
---

# Forces

Newton's *second* law relates **force**, mass and
acceleration; see [the notes](https://example.org/notes) and `F = m a`.
![a diagram](fig.png)

## Friction

- Static friction holds objects at rest.
- Kinetic friction acts
  on moving objects.
  - Nested items are their own paragraphs.

1. First step.
2. Second step.

> Friction converts kinetic energy
> into heat.

```python
def force(m, a):
    return m * a
```

    indented code is dropped too

<div class="note">
raw HTML blocks are dropped
</div>

| Quantity | Unit |
|----------|------|
| Force    | *newton* |

Setext heading
--------------

Inline <span>html</span> tags go, their text stays, ~~struck~~ too.
"""


def test_markdown_keeps_headings_paragraphs_items_quotes_and_cells(read):
    result = read("forces.md", DOC)
    assert outline(result) == [
        ("heading", "Forces", 1),
        ("paragraph", "Newton's second law relates force, mass and acceleration; see the notes and F = m a."),
        ("heading", "Friction", 2),
        ("paragraph", "Static friction holds objects at rest."),
        ("paragraph", "Kinetic friction acts on moving objects."),
        ("paragraph", "Nested items are their own paragraphs."),
        ("paragraph", "First step."),
        ("paragraph", "Second step."),
        ("paragraph", "Friction converts kinetic energy into heat."),
        ("paragraph", "Quantity"),
        ("paragraph", "Unit"),
        ("paragraph", "Force"),
        ("paragraph", "newton"),
        ("heading", "Setext heading", 2),
        ("paragraph", "Inline html tags go, their text stays, struck too."),
    ]


def test_markdown_drops_code_html_blocks_images_and_front_matter(read):
    text = read("forces.md", DOC).text
    for gone in ("def force", "return m", "indented code", "raw HTML", "<div", "diagram", "fig.png",
                 "Front matter", "tags:", "https://example.org", "**", "`", "<span>"):
        assert gone not in text


def test_markdown_heading_levels_one_to_six(read):
    result = read("levels.markdown", "".join(f"{'#' * n} H{n}\n\nBody {n}.\n\n" for n in range(1, 7)))
    assert [(b.level, result.text[b.start:b.end]) for b in result.blocks if b.kind == "heading"] == [
        (n, f"H{n}") for n in range(1, 7)]


def test_markdown_entities_and_hard_breaks(read):
    result = read("e.md", "Fish &amp; chips &copy; 2024  \nnext line\\\nand more.\n")
    assert texts(result) == ["Fish & chips \u00a9 2024 next line and more."]


def test_md_txt_is_read_as_markdown(read):
    result = read("notes.md.txt", "# Title\n\nA *b* c.\n")
    assert outline(result) == [("heading", "Title", 1), ("paragraph", "A b c.")]
