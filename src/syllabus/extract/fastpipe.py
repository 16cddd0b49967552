"""Faster stand-ins for the slow Python parts of spaCy's English pipeline, with identical output.

After the neural components, the attribute ruler and the rule lemmatiser cost about a third of
the pipeline's time, in per-token Python work whose outcome depends on a few token attributes
only. Each stand-in works that outcome out once per distinct combination of those attributes,
memoises it and writes the annotations back as arrays; tests/unit/extract/test_nlp.py checks
that every annotation equals plain spaCy's.
"""
from __future__ import annotations


def speed_up(nlp) -> None:
    """Install the stand-ins on *nlp*'s attribute ruler and lemmatiser (where present)."""
    if "attribute_ruler" in nlp.pipe_names:
        ruler = nlp.get_pipe("attribute_ruler")
        FastRulerMatch.install(ruler)
        FastRulerAnnotations.install(ruler)
    if "lemmatizer" in nlp.pipe_names:
        MemoLemmatizer.install(nlp.get_pipe("lemmatizer"))


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
    sorted as the ruler sorts them (tests/unit/extract/test_nlp.py compares them with the
    Matcher's). Rules added to the ruler later rebuild the lookup.
    """

    _ATTRS = ("TAG", "LOWER", "DEP", "IS_SPACE", "ORTH", "NORM", "LEMMA")

    def __init__(self, ruler) -> None:
        import re

        import numpy as np
        import spacy.attrs
        from spacy.matcher import Matcher

        self.ruler = ruler
        self.rules = len(ruler.attrs)  # rules added later (ruler.add) rebuild the lookup
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
        self.memo: dict[int, tuple] = {}  # signature -> (one-token matches, (pattern, token) specs passed)
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

        if len(self.ruler.attrs) != self.rules:
            self.__init__(self.ruler)
        n = len(doc)
        matches: list[tuple[int, int, int, int]] = []
        if n and self.patterns:
            base = doc.to_array(self.base_ids).reshape(n, len(self.base_ids))
            columns = [base[:, self.base.index(name)] for name in self.columns if not name.startswith("~")]
            strings = doc.vocab.strings
            for (attr, regex), seen in zip(self.regexes, self.regex_memo):
                flags = []
                for h in base[:, self.base.index(attr)].tolist():
                    flag = seen.get(h)
                    if flag is None:
                        flag = seen[h] = int(bool(regex.search(strings[h])))
                    flags.append(flag)
                columns.append(np.array(flags, dtype=np.uint64))
            code = np.zeros(n, dtype=np.int64)
            for column, named in zip(columns, self.named_arrays):
                if len(named):
                    index = np.minimum(np.searchsorted(named, column), len(named) - 1)
                    code = code * (len(named) + 1) + np.where(named[index] == column, index + 1, 0)
            passed: dict[tuple[int, int], list[int]] = {}  # (pattern, token spec) -> positions passing it
            memo = self.memo
            for i, signature in enumerate(code.tolist()):
                entry = memo.get(signature)
                if entry is None:
                    entry = memo[signature] = self._evaluate(signature)
                single, specs = entry
                for key, match_id in single:
                    matches.append((key, match_id, i, i + 1))
                for spec in specs:
                    passed.setdefault(spec, []).append(i)
            longer: set[tuple[int, int, int, int]] = set()
            for p in sorted({p for p, k in passed if k == 0}):
                key, match_id, specs = self.patterns[p]
                length = len(specs)
                later = [set(passed.get((p, k), ())) for k in range(1, length)]
                longer.update((key, match_id, i, i + length) for i in passed[(p, 0)]
                              if i + length <= n and all(i + k in later[k - 1] for k in range(1, length)))
            matches += longer
        if len(self.rest):
            strings = self.ruler.vocab.strings
            matches += {(int(strings[m_id]), m_id, start, end)
                        for m_id, start, end in self.rest(doc, allow_missing=True, as_spans=False)}
        matches.sort()
        return matches


class FastRulerAnnotations:
    """The attribute ruler's ``set_annotations``: each match's attributes written to the token it
    names, in the ruler's order (later rules win), through one array per doc instead of a Span
    and a Token per match.

    Only for rules whose attributes are token-level (lemma, part of speech, tag, dependency,
    morphology: spaCy writes those to the token alone); a doc with a match of another rule, or
    whose token index falls outside its span, is handed to the ruler's own code (which raises
    its error for the latter)."""

    def __init__(self, ruler) -> None:
        from spacy.attrs import DEP, LEMMA, MORPH, POS, TAG

        self.ruler = ruler
        self.original = ruler.set_annotations
        self.token_level = {DEP, LEMMA, MORPH, POS, TAG}
        self.rules: dict[int, tuple[int, tuple]] = {}  # supported rule -> (token index, attributes)

    @classmethod
    def install(cls, ruler) -> None:
        ruler.set_annotations = cls(ruler)

    def _rule(self, key: int) -> tuple[int, tuple] | None:
        attrs = self.ruler.attrs[key]
        if set(attrs) <= self.token_level and all(isinstance(v, int) for v in attrs.values()):
            return self.ruler.indices[key], tuple(attrs.items())
        return None

    def __call__(self, doc, matches) -> None:
        import numpy as np

        if not matches:
            return
        rules, targets, names = self.rules, [], set()
        for key, _, start, end in matches:
            rule = rules.get(key)
            if rule is None:
                rule = self._rule(key)
                if rule is None:
                    return self.original(doc, matches)
                rules[key] = rule
            index, items = rule
            position = (start if index >= 0 else end) + index
            if not start <= position < end:
                return self.original(doc, matches)
            targets.append((position, items))
            names.update(name for name, _ in items)
        columns = sorted(names)
        column = {name: j for j, name in enumerate(columns)}
        rows = doc.to_array(columns).reshape(len(doc), len(columns)).tolist()
        for position, items in targets:
            row = rows[position]
            for name, value in items:
                row[column[name]] = value
        doc.from_array(columns, np.array(rows, dtype=np.uint64))


class MemoLemmatizer:
    """A rule lemmatiser that works each lemma out once per (word, part of speech, morphology).

    spaCy's rule lemmatiser computes a token's lemma from exactly those three (its own cache uses
    the same key, but only after the base-form test, which reads the morphology as a dict for
    every token). Installed by giving the pipe a subclass whose ``__call__`` looks the lemma up
    in a memo and writes all of a doc's lemmas as one array; a miss asks the pipe's own
    ``lemmatize``. That one tests candidate forms for membership in the word lists of the
    ``lemma_index`` table (57k nouns: a linear scan per test, ~0.1 ms per new word), so those
    lists are turned into frozensets, which answer ``in`` alike. Tokens that already have a
    lemma (set by the attribute ruler) keep it unless the pipe overwrites, as in spaCy."""

    _MEMO_LIMIT = 500_000

    @classmethod
    def install(cls, lemmatizer) -> None:
        base = type(lemmatizer)
        if lemmatizer.mode != "rule" or getattr(base, "_memoised", False):
            return
        lemmatizer.__class__ = type(f"Memo{base.__name__}", (base,), {"__call__": cls._call, "_memoised": True})
        lemmatizer._lemma_memo = {}
        index = lemmatizer.lookups.get_table("lemma_index", {})
        for pos, words in list(index.items()):
            if isinstance(words, list):
                index[pos] = frozenset(words)

    @staticmethod
    def _call(self, doc):
        import numpy as np
        from spacy.attrs import LEMMA, MORPH, ORTH, POS
        from spacy.errors import Errors

        if not self._validated:
            self._validate_tables(Errors.E1004)
        if not len(doc):
            return doc
        try:
            memo = self._lemma_memo
            if len(memo) > MemoLemmatizer._MEMO_LIMIT:
                memo.clear()
            add = doc.vocab.strings.add
            rows = doc.to_array([ORTH, POS, MORPH, LEMMA]).tolist()
            lemmas = []
            for i, (orth, pos, morph, lemma) in enumerate(rows):
                if lemma and not self.overwrite:
                    lemmas.append(lemma)
                    continue
                key = (orth, pos, morph)
                found = memo.get(key)
                if found is None:
                    found = memo[key] = add(self.lemmatize(doc[i])[0])
                lemmas.append(found)
            doc.from_array([LEMMA], np.array(lemmas, dtype=np.uint64))
            return doc
        except Exception as e:  # as spaCy's pipe reports errors
            return self.get_error_handler()(self.name, self, [doc], e)
