"""Corpus files as text: format readers (txt, md, rst, html, pdf, jsonl) and chunking.

This package is pure and store-free: :func:`syllabus.corpus.readers.read_file` turns one file
into normalised text with heading/paragraph blocks, and
:func:`syllabus.corpus.chunking.chunk_document` cuts that text into section-aware chunks whose
offsets point back into it. Ingest (the store sync) is built on these two functions.
"""
