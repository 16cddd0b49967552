"""Ontologies as code: RDF and OBO import/export, sync, lint and diff."""
