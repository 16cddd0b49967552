from corpus_helpers import outline, texts

TITLES = """\
=========
Mechanics
=========

Intro text.

Forces
======

About forces.

Friction
--------

About friction.

Drag
----

About drag.

Energy
======

About energy.

Kinetic
-------

Moving things.

Very deep
~~~~~~~~~

Deepest.
"""


def test_rst_titles_get_levels_by_first_appearance_of_each_adornment_style(read):
    result = read("mech.rst", TITLES)
    headings = [(result.text[b.start:b.end], b.level) for b in result.blocks if b.kind == "heading"]
    # over+underlined "=" is a different style from underlined "=": levels 1, 2, 3, 4
    assert headings == [("Mechanics", 1), ("Forces", 2), ("Friction", 3), ("Drag", 3), ("Energy", 2),
                        ("Kinetic", 3), ("Very deep", 4)]
    assert texts(result, "paragraph")[:2] == ["Intro text.", "About forces."]


def test_rst_roles_become_their_visible_text(read):
    source = (
        "A :term:`duck-typing` check calls :func:`~os.path.join` or :meth:`str.format`; see\n"
        ":ref:`the tutorial <tut-intro>`, :keyword:`!if`, :class:`!Foo`, :pep:`8`, :rfc:`2822`,\n"
        ":issue:`12345`, :gh:`99`, :abbr:`LIFO (last-in, first-out)`, :file:`{prefix}/lib`,\n"
        ":menuselection:`File --> Open`, :c:func:`PyList_New` and :py:mod:`json`.\n"
    )
    result = read("roles.rst", source)
    assert texts(result) == [
        "A duck-typing check calls join or str.format; see the tutorial, if, Foo, PEP 8, RFC 2822, "
        "bpo-12345, gh-99, LIFO (last-in, first-out), prefix/lib, File > Open, PyList_New and json."]


def test_rst_inline_literals_emphasis_links_and_substitutions(read):
    source = (
        "Use ``*args`` and ``x * y``, *emphasis* and **strong**, a `link <https://example.org>`_,\n"
        "a `named reference`_, an anonymous `one`__, a footnote [#]_ and [1]_, and |version|\n"
        "and |name|. Escaped \\*stars\\* stay, 2 * 3 * 4 too.\n"
        "\n"
        ".. |name| replace:: ``the replacement``\n"
        ".. _named reference: https://example.org/ref\n"
        "__ https://example.org/anon\n"
        ".. [#] The footnote body is prose.\n"
    )
    result = read("inline.rst", source)
    assert texts(result) == [
        "Use *args and x * y, emphasis and strong, a link, a named reference, an anonymous one, "
        "a footnote and, and version and the replacement. Escaped *stars* stay, 2 * 3 * 4 too.",
        "The footnote body is prose.",
    ]


DIRECTIVES = """\
Title
=====

.. note::
   Notes are prose
   and are kept.

.. warning:: Warnings too.

.. versionadded:: 3.10

.. versionchanged:: 3.11
   The *flag* argument was added.

.. deprecated-removed:: 3.12 3.14
   Use something else.

.. seealso:: Module :mod:`json`.

.. code-block:: python
   :linenos:

   print("dropped")

.. toctree::
   :maxdepth: 2

   intro
   usage

.. image:: figure.png
   :alt: a picture

.. index:: single: friction

.. |sub| replace:: substitution definitions are dropped

.. This is a comment,
   spread over two lines.

..
   An empty comment introduces dropped text.

.. _target-label:

.. math::

   F = m a

.. sometheme-unknown:: ignored argument
   :someoption: value

   Unknown directives keep their prose.
"""


def test_rst_prose_directives_are_kept_and_the_rest_dropped(read):
    result = read("dirs.rst", DIRECTIVES)
    assert outline(result) == [
        ("heading", "Title", 1),
        ("paragraph", "Notes are prose and are kept."),
        ("paragraph", "Warnings too."),
        ("paragraph", "Added in version 3.10."),
        ("paragraph", "Changed in version 3.11: The flag argument was added."),
        ("paragraph", "Deprecated since version 3.12, will be removed in version 3.14: Use something else."),
        ("paragraph", "Module json."),
        ("paragraph", "Unknown directives keep their prose."),
    ]
    for gone in ("print", "maxdepth", "intro", "figure.png", "friction", "substitution", "comment",
                 "empty comment", "target-label", "F = m a", "ignored argument", "someoption", ".. ", "::"):
        assert gone not in result.text


LITERALS = """\
An example::

    x = 1  # dropped

A spaced example ::

    y = 2  # dropped

::

    z = 3  # dropped

>>> print("doctest blocks are dropped")
doctest output

Back to prose.
"""


def test_rst_literal_blocks_after_double_colon_are_dropped(read):
    assert texts(read("lit.rst", LITERALS)) == ["An example:", "A spaced example", "Back to prose."]


LISTS = """\
- First item
  continues here.
- Second item.

  With a second paragraph.

  * Nested item.

#. Enumerated one.
#. Enumerated two.

(a) Lettered.

term
   The definition of the term.

:Author: Somebody
:param speed: How fast it goes.

| A line block
| in two lines.

    A block quote is prose.
"""


def test_rst_list_items_definitions_fields_and_quotes_are_paragraphs(read):
    assert texts(read("lists.rst", LISTS)) == [
        "First item continues here.",
        "Second item.",
        "With a second paragraph.",
        "Nested item.",
        "Enumerated one.",
        "Enumerated two.",
        "Lettered.",
        "term",
        "The definition of the term.",
        "Author: Somebody",
        "speed: How fast it goes.",
        "A line block in two lines.",
        "A block quote is prose.",
    ]


TABLES = """\
+----------+-----------------+
| Quantity | Unit            |
+==========+=================+
| Force    | newton, a       |
|          | derived unit    |
+----------+-----------------+
| Mass     | ---             |
+----------+-----------------+

=====  ===========
Name   Meaning
=====  ===========
``<``  less than
``>``  greater than,
       strictly
=====  ===========

After the tables.
"""


def test_rst_table_cells_become_paragraphs(read):
    assert texts(read("tables.rst", TABLES)) == [
        "Quantity", "Unit", "Force", "newton, a derived unit", "Mass",
        "Name", "Meaning", "<", "less than", ">", "greater than, strictly",
        "After the tables.",
    ]


OBJECTS = """\
Built-in Functions
==================

.. function:: abs(x)

   Return the absolute value of a number.

   .. versionadded:: 3.0

.. class:: Counter(iterable=None, /, **kwds)
   :module: collections

   A dict subclass for counting.

   .. method:: most_common(n=None)

      Return the most common elements.

   .. attribute:: total

      The sum of counts.

.. c:function:: PyObject* PyList_New(Py_ssize_t len)

   Return a new list.

.. data:: sys.maxsize

   The largest index.

Other section
=============

Plain prose.
"""


def test_rst_object_descriptions_are_headings_below_the_section(read):
    assert outline(read("objects.rst", OBJECTS)) == [
        ("heading", "Built-in Functions", 1),
        ("heading", "abs()", 2),
        ("paragraph", "Return the absolute value of a number."),
        ("paragraph", "Added in version 3.0."),
        ("heading", "Counter", 2),
        ("paragraph", "A dict subclass for counting."),
        ("heading", "most_common()", 3),
        ("paragraph", "Return the most common elements."),
        ("heading", "total", 3),
        ("paragraph", "The sum of counts."),
        ("heading", "PyList_New()", 2),
        ("paragraph", "Return a new list."),
        ("heading", "sys.maxsize", 2),
        ("paragraph", "The largest index."),
        ("heading", "Other section", 1),
        ("paragraph", "Plain prose."),
    ]


def test_rst_txt_sources_are_read_as_rst(read):
    result = read("about.rst.txt", "About\n=====\n\nSee :func:`len`.\n")
    assert outline(result) == [("heading", "About", 1), ("paragraph", "See len.")]


def test_rst_transitions_and_tabs(read):
    result = read("t.rst", "First.\n\n----------\n\n\tIndented\twith tabs.\n")
    assert texts(result) == ["First.", "Indented with tabs."]
