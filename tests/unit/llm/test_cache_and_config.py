"""The response cache file and the [llm] table, without a server."""
from __future__ import annotations

import pytest

from syllabus.config import parse_config
from syllabus.errors import SyllabusError
from syllabus.llm.cache import Cached, ResponseCache


def test_answers_and_failures_survive_reopening(tmp_path):
    cache = ResponseCache(tmp_path / "c.db")
    cache.put("k1", "m", "t@v", Cached("answer bytes \u00e9", 3, 4))
    cache.put("k1", "m", "t@v", Cached("a different answer", 1, 1))  # the first answer stays
    cache.record_failure("k2", "chunk 9", "t", "E183", "not JSON")
    cache.close()
    again = ResponseCache(tmp_path / "c.db")
    assert again.get("k1") == Cached("answer bytes \u00e9", 3, 4) and again.get("k2") is None
    assert again.failures() == [{"unit": "chunk 9", "template": "t", "code": "E183", "detail": "not JSON"}]
    again.close()


def test_an_unusable_cache_file_is_e187(tmp_path):
    bad = tmp_path / "llm-cache.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SyllabusError) as err:
        ResponseCache(bad)
    assert err.value.code == "E187" and str(bad) in err.value.message


def test_llm_table_defaults_and_validation():
    cfg = parse_config(b'[llm]\nbase_url = "http://127.0.0.1:8000/v1"\nmodel = "m"\n', "syllabus.toml").llm
    assert (cfg.temperature, cfg.seed, cfg.max_concurrency, cfg.retries, cfg.cache) == (
        0.0, 0, 4, 2, ".syllabus/llm-cache.db")
    assert parse_config(b"", "syllabus.toml").extract.extractors == ["patterns"]
    with pytest.raises(SyllabusError) as err:
        parse_config(b"[llm]\nmax_concurrency = 0\n", "syllabus.toml")
    assert err.value.code == "E003" and err.value.fields["key"] == "llm.max_concurrency"
    with pytest.raises(SyllabusError) as err:
        parse_config(b'[llm]\napi_key = "sk-..."\n', "syllabus.toml")  # keys live in the environment only
    assert err.value.code == "E003" and err.value.fields["key"] == "llm.api_key"
