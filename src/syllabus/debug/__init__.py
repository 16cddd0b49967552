"""Debugging the graph: diagnosis of failed items, gap queries and targeted repair."""
