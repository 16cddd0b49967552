"""Benchmarks built from the graph (unit tests of the graph), external benchmarks, model scoring."""
