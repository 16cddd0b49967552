"""Chain mining on small graphs: rules, dedup, caps, direct-edge exclusion, stable splits."""
import networkx as nx

from syllabus.config import ChainsConfig
from syllabus.extract.chains import mine, split_of


def graph(*edges):
    g = nx.MultiDiGraph()
    for i, (s, p, o) in enumerate(edges):
        g.add_edge(s, o, key=f"r{i}:{s}-{p}-{o}", predicate=p)
    return g


def conclusions(chains):
    return {(c.rule, c.subject, c.predicate, c.object, len(c.relation_ids)) for c in chains}


def test_each_rule_composes_its_relations():
    g = graph(("a", "is_a", "b"), ("b", "is_a", "c"), ("c", "is_a", "d"), ("c", "has_property", "p"),
              ("x", "causes", "y"), ("y", "causes", "z"), ("m", "requires", "n"), ("n", "requires", "o"),
              ("q", "part_of", "r"), ("r", "part_of", "s"))
    got = conclusions(mine(g, ChainsConfig(max_hops=4)))
    assert ("transitive_is_a", "a", "is_a", "c", 2) in got and ("transitive_is_a", "a", "is_a", "d", 3) in got
    assert ("property_inheritance", "a", "has_property", "p", 3) in got
    assert ("property_inheritance", "b", "has_property", "p", 2) in got
    assert ("causal_composition", "x", "causes", "z", 2) in got
    assert ("prerequisite_chain", "m", "requires", "o", 2) in got
    assert ("transitive_part_of", "q", "part_of", "s", 2) in got
    assert not any(c[0] == "property_inheritance" and c[1] == "c" for c in got)  # needs an is_a hop


def test_max_hops_and_direct_edges():
    g = graph(("a", "is_a", "b"), ("b", "is_a", "c"), ("c", "is_a", "d"), ("a", "is_a", "c"))
    got = conclusions(mine(g, ChainsConfig(max_hops=2)))
    assert ("transitive_is_a", "a", "is_a", "c", 2) not in got  # already a direct edge
    assert ("transitive_is_a", "b", "is_a", "d", 2) in got
    assert ("transitive_is_a", "a", "is_a", "d", 2) in got  # via the direct a->c edge
    assert all(n <= 2 for *_, n in got)


def test_one_chain_per_conclusion_shortest_first_and_cap():
    g = graph(("a", "causes", "b"), ("b", "causes", "d"), ("a", "causes", "c"), ("c", "causes", "e"),
              ("e", "causes", "d"))
    chains = mine(g, ChainsConfig(max_hops=4))
    to_d = [c for c in chains if c.subject == "a" and c.object == "d"]
    assert len(to_d) == 1 and len(to_d[0].relation_ids) == 2
    capped = mine(g, ChainsConfig(max_hops=4, per_concept_cap=1))
    assert len([c for c in capped if c.subject == "a"]) == 1


def test_cycles_terminate_and_splits_are_stable():
    g = graph(("a", "causes", "b"), ("b", "causes", "a"), ("b", "causes", "c"))
    chains = mine(g, ChainsConfig(max_hops=5, bench_ratio=0.5))
    assert {(c.subject, c.object) for c in chains} == {("a", "c")}
    assert all(c.split == split_of(c.id, 0.5) for c in chains)
    assert split_of("chn:x", 0.0) == "train" and split_of("chn:x", 1.0) == "bench"
