"""The duplicate gate: exact and near duplicates, and local re-decisions equal a global one."""
import numpy as np

from syllabus.compile import dedup


def _arrays(texts):
    exact, sig = dedup.signatures(texts)
    return exact, sig


def test_exact_duplicates_after_normalisation_keep_the_smallest_id():
    exact, sig = _arrays(["What is heat?\nHeat is energy in transit.", "what is HEAT ?  heat is energy, in transit",
                          "What is work?\nWork is force times distance."])
    decisions = dedup.decide(exact, sig, np.arange(3))
    assert decisions == {1: (0, "exact duplicate")}


def test_near_duplicates_are_found_and_different_texts_are_not():
    base = "Explain step by step why a proton is a kind of particle. 1. A proton is a kind of hadron. " \
           "2. A hadron is a kind of composite particle. 3. A composite particle is a kind of particle. " \
           "A kind of a kind of something is itself a kind of that thing."
    near = base.replace("3. A composite", "3. Any composite")
    other = "What does friction cause? Friction causes heating of the surfaces that rub against each other."
    exact, sig = _arrays([base, near, other])
    decisions = dedup.decide(exact, sig, np.arange(3))
    assert list(decisions) == [1] and decisions[1][0] == 0 and "near duplicate" in decisions[1][1]


def test_minhash_estimates_jaccard():
    estimates = []
    for k in range(60):
        words = [f"w{k}x{i}" for i in range(200)]
        a = " ".join(words)
        b = " ".join(words[:100] + [f"y{k}x{i}" for i in range(100)])
        exact, sig = _arrays([a, b])
        estimates.append(float(np.mean(sig[0] == sig[1])))
    assert 0.25 < float(np.mean(estimates)) < 0.42  # true 3-shingle Jaccard is about 0.32


def test_local_decisions_match_global_ones():
    rng = np.random.default_rng(0)
    vocab = [f"v{i}" for i in range(30)]
    texts = [" ".join(rng.choice(vocab, 12)) for _ in range(300)]
    texts += texts[:40]  # exact duplicates
    exact, sig = _arrays(texts)
    everything = dedup.decide(exact, sig, np.arange(len(texts)))
    touched = dedup.touching(exact, sig, exact[:5], sig[:5])
    local = dedup.decide(exact, sig, touched)
    assert {i: d for i, d in everything.items() if i in set(touched.tolist())} == local
