"""Extraction: spaCy parsing, concept mentions, term candidates, relation patterns, chains."""
