"""The LLM client against a real `transformers serve` (through a counting, fault-injecting proxy)."""
from __future__ import annotations

import sqlite3

import pytest
from llm_server import GREETING, ServeProcess, build_chat_model, free_port
from pydantic import BaseModel

from syllabus.config import LLMConfig
from syllabus.errors import SyllabusError
from syllabus.llm.cache import cache_key
from syllabus.llm.client import LLMClient, Request, estimate

pytestmark = pytest.mark.slow


class Greeting(BaseModel):
    greeting: str
    count: int


def client(url, tmp_path, model, **cfg) -> LLMClient:
    settings = dict(base_url=url, model=model, max_tokens=8, backoff_s=0.01, retries=2, timeout_s=60)
    settings.update(cfg)
    return LLMClient(LLMConfig(**settings), tmp_path / "llm-cache.db", command="test")


def text_request(i: int = 0, unit: str | None = None) -> Request:
    return Request(unit or f"chunk {i}", "test.echo", "v1", ({"role": "user", "content": f"Say something {i}."},))


def greeting_request(unit: str = "chunk 7") -> Request:
    return Request(unit, "test.greet", "v1", tuple(GREETING[0]), answer=Greeting, max_tokens=40)


def test_cache_miss_then_hit_gives_the_same_bytes_without_a_second_request(llm_server, llm_proxy, tmp_path):
    with client(llm_proxy.url, tmp_path, llm_server.model) as first:
        a = first.ask_all([text_request(1)])[0]
    assert a.ok and not a.cached and a.content and llm_proxy.forwarded == 1
    assert first.usage.paid_calls == 1 and first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
    with client(llm_proxy.url, tmp_path, llm_server.model) as second:
        b = second.ask_all([text_request(1)])[0]
    assert b.cached and b.content == a.content and llm_proxy.requests == 1
    assert second.usage.paid_calls == 0 and second.usage.cached == 1
    assert second.usage.cached_completion_tokens == first.usage.completion_tokens
    # a different seed is another question: it is asked
    with client(llm_proxy.url, tmp_path, llm_server.model, seed=1) as third:
        assert not third.ask(text_request(1)).cached
    assert llm_proxy.requests == 2


def test_identical_requests_are_asked_once_and_answers_keep_request_order(llm_server, llm_proxy, tmp_path):
    with client(llm_proxy.url, tmp_path, llm_server.model) as c:
        answers = c.ask_all([text_request(1, "a"), text_request(2, "b"), text_request(1, "c")])
    assert [a.unit for a in answers] == ["a", "b", "c"]
    assert answers[0].content == answers[2].content and llm_proxy.requests == 2


def test_structured_answer_is_validated_into_the_model(llm_server, llm_proxy, tmp_path):
    with client(llm_proxy.url, tmp_path, llm_server.model) as c:
        a = c.ask(greeting_request())
    assert a.ok and a.data == Greeting(greeting="hello", count=3)
    sent = llm_proxy.bodies[0]
    assert sent["response_format"]["type"] == "json_schema" and sent["temperature"] == 0 and sent["seed"] == 0
    assert sent["response_format"]["json_schema"]["schema"]["required"] == ["greeting", "count"]


def test_an_answer_that_stays_invalid_is_retried_then_a_recorded_failure(llm_server, llm_proxy, tmp_path):
    # the model was never taught this conversation: its reply is not JSON
    untaught = Request("chunk 3", "test.greet", "v1", ({"role": "user", "content": "Something else."},),
                       answer=Greeting, max_tokens=8)
    with client(llm_proxy.url, tmp_path, llm_server.model, retries=2) as c:
        a = c.ask(untaught)
        assert not a.ok and a.data is None and a.content is None
        assert a.error.code == "E183" and "chunk 3" in a.error.message and "3 attempts" in a.error.message
        assert c.cache.count() == 0 and c.cache.failures()[0]["unit"] == "chunk 3"
        assert c.usage.failed == 1
        assert c.ask(untaught).error.code == "E183" and c.usage.requests == 1  # not paid twice in one command
    assert llm_proxy.requests == 3
    with client(llm_proxy.url, tmp_path, llm_server.model, retries=0) as c:  # the next command asks again
        assert not c.ask(untaught).ok
    assert llm_proxy.requests == 4


def test_malformed_json_is_retried_and_a_later_valid_answer_is_used(llm_server, llm_proxy, tmp_path):
    llm_proxy.faults = ["badjson", "garbage"]
    with client(llm_proxy.url, tmp_path, llm_server.model, retries=2) as c:
        a = c.ask(greeting_request())
        assert a.ok and a.data.greeting == "hello" and c.usage.paid_calls == 3
    assert llm_proxy.requests == 3
    llm_proxy.reset()
    llm_proxy.faults = ["badjson"] * 3
    with client(llm_proxy.url, tmp_path / "other", llm_server.model, retries=2) as c:
        a = c.ask(greeting_request())
        assert a.error.code == "E183" and c.cache.count() == 0


def test_http_500_is_retried_then_e182_naming_the_unit(llm_server, llm_proxy, tmp_path):
    llm_proxy.faults = ["500"]
    with client(llm_proxy.url, tmp_path, llm_server.model, retries=1) as c:
        assert c.ask(text_request(4)).ok
    assert llm_proxy.requests == 2
    llm_proxy.reset()
    llm_proxy.faults = ["500"] * 5
    with client(llm_proxy.url, tmp_path, llm_server.model, retries=2) as c:
        with pytest.raises(SyllabusError) as err:
            c.ask(text_request(5))
        assert c.cache.count() == 1  # only the earlier answer
    assert err.value.code == "E182" and "chunk 5" in err.value.message and "HTTP 500" in err.value.message
    assert llm_proxy.requests == 3


def test_a_4xx_is_not_retried(llm_server, llm_proxy, tmp_path):
    with client(llm_proxy.url, tmp_path, "no-such-model", retries=3) as c:
        with pytest.raises(SyllabusError) as err:
            c.ask(text_request(1))
    assert err.value.code == "E182" and err.value.fields["status"] == 400 and llm_proxy.requests == 1


def test_timeouts_are_retried_then_e181(llm_server, llm_proxy, tmp_path):
    llm_proxy.faults = ["hang", "hang"]
    llm_proxy.hang_s = 3
    with client(llm_proxy.url, tmp_path, llm_server.model, timeout_s=0.5, retries=1) as c:
        with pytest.raises(SyllabusError) as err:
            c.ask(text_request(6))
    assert err.value.code == "E181" and "chunk 6" in err.value.message and llm_proxy.requests == 2


def test_no_server_is_e180_after_the_retries(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with client(url, tmp_path, "m", retries=2) as c:
        with pytest.raises(SyllabusError) as err:
            c.ask_all([text_request(1)])
    assert err.value.code == "E180" and "chunk 1" in err.value.message and "3 attempts" in err.value.message


def test_concurrency_never_exceeds_the_limit(llm_server, llm_proxy, tmp_path):
    llm_proxy.hold_s = 0.3
    with client(llm_proxy.url, tmp_path, llm_server.model, max_concurrency=3) as c:
        assert all(a.ok for a in c.ask_all([text_request(i) for i in range(9)]))
    assert llm_proxy.requests == 9 and 2 <= llm_proxy.max_in_flight <= 3
    llm_proxy.reset()
    llm_proxy.hold_s = 0.2
    with client(llm_proxy.url, tmp_path, llm_server.model, max_concurrency=1) as c:
        c.ask_all([text_request(i) for i in range(10, 14)])
    assert llm_proxy.requests == 4 and llm_proxy.max_in_flight == 1


def test_budget_stops_the_command_and_the_next_run_resumes_from_the_cache(llm_server, llm_proxy, tmp_path):
    requests = [text_request(i) for i in range(20, 24)]
    with client(llm_proxy.url, tmp_path, llm_server.model, budget_calls=2, max_concurrency=1) as c:
        plan = estimate(c, requests)
        assert (plan.requests, plan.cached, plan.to_pay, plan.completion_tokens) == (4, 0, 4, 32)
        with pytest.raises(SyllabusError) as err:
            c.ask_all(requests)
    assert err.value.code == "E184" and "budget_calls" in err.value.fix
    with client(llm_proxy.url, tmp_path, llm_server.model) as c:
        assert estimate(c, requests).cached == 2
        answers = c.ask_all(requests)
        assert [a.cached for a in answers].count(True) == 2 and c.usage.paid_calls == 2
    assert llm_proxy.requests == 4


def test_api_key_comes_from_the_named_variable_and_is_never_stored(llm_server, llm_proxy, tmp_path, monkeypatch):
    with pytest.raises(SyllabusError) as err:
        client(llm_proxy.url, tmp_path, llm_server.model, api_key_env="SYLLABUS_TEST_KEY")
    assert err.value.code == "E185" and "SYLLABUS_TEST_KEY" in err.value.message
    monkeypatch.setenv("SYLLABUS_TEST_KEY", "sk-secret-4242")
    with client(llm_proxy.url, tmp_path, llm_server.model, api_key_env="SYLLABUS_TEST_KEY") as c:
        c.ask(text_request(30))
    assert llm_proxy.headers[0]["Authorization"] == "Bearer sk-secret-4242"
    for f in tmp_path.glob("llm-cache.db*"):
        assert b"sk-secret-4242" not in f.read_bytes()


def test_missing_base_url_or_model_is_e186(tmp_path):
    with pytest.raises(SyllabusError) as err:
        LLMClient(LLMConfig(model="m"), tmp_path / "c.db", command="syllabus extract")
    assert err.value.code == "E186" and "base_url" in err.value.message


def test_cache_key_covers_model_prompt_version_messages_and_parameters_only():
    msgs = [{"role": "user", "content": "x"}]
    base = cache_key("m", "t", "v1", msgs, {"seed": 0})
    assert base == cache_key("m", "t", "v1", [{"content": "x", "role": "user"}], {"seed": 0})
    assert len({base, cache_key("m2", "t", "v1", msgs, {"seed": 0}), cache_key("m", "t2", "v1", msgs, {"seed": 0}),
                cache_key("m", "t", "v2", msgs, {"seed": 0}), cache_key("m", "t", "v1", msgs, {"seed": 1}),
                cache_key("m", "t", "v1", [{"role": "user", "content": "y"}], {"seed": 0})}) == 6


def test_a_server_killed_mid_run_is_e180_and_the_next_run_resumes(llm_server, llm_proxy, tmp_path):
    model = build_chat_model(tmp_path / "model", ["another tiny model"])
    victim = ServeProcess(model, tmp_path / "victim.log", port=free_port())
    requests = [text_request(i) for i in range(40, 45)]
    seen = []

    def kill_after_two(_n):
        seen.append(1)
        if len(seen) == 2:
            victim.stop()

    try:
        with client(victim.url, tmp_path, victim.model, max_concurrency=1, retries=1) as c:
            with pytest.raises(SyllabusError) as err:
                c.ask_all(requests, progress=kill_after_two)
    finally:
        victim.stop()
    assert err.value.code == "E180" and "chunk 4" in err.value.message
    db = sqlite3.connect(tmp_path / "llm-cache.db")
    assert db.execute("SELECT count(*) FROM response").fetchone()[0] == 2  # committed as they arrived
    db.close()
    # the same model name served elsewhere (here: the proxy in front of another server) resumes
    with client(llm_proxy.url, tmp_path, victim.model) as c:
        plan = estimate(c, requests)
    assert (plan.cached, plan.to_pay) == (2, 3)


def test_a_server_refusing_response_format_is_asked_with_the_prompt_alone(llm_server, llm_proxy, tmp_path):
    llm_proxy.faults = ["no_schema", "no_schema", "no_schema"]
    with client(llm_proxy.url, tmp_path, llm_server.model) as c:
        first = c.ask(greeting_request("unit a"))
        assert first.ok and first.data.greeting == "hello"
    assert ["response_format" in b for b in llm_proxy.bodies] == [True, False]


KILLED_CLIENT = """
import sys
from pathlib import Path
from syllabus.config import LLMConfig
from syllabus.llm.client import LLMClient, Request
cfg = LLMConfig(base_url=sys.argv[1], model=sys.argv[2], max_tokens=8, max_concurrency=1)
c = LLMClient(cfg, Path(sys.argv[3]), command="killed")
c.ask_all([Request(f"chunk {i}", "test.echo", "v1", ({"role": "user", "content": f"Say something {i}."},))
           for i in range(50, 56)])
"""


def test_a_client_killed_mid_run_keeps_every_answer_it_received(llm_server, llm_proxy, tmp_path):
    import os
    import subprocess
    import sys
    import time

    llm_proxy.hold_s = 0.5
    cache = tmp_path / "llm-cache.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, llm_proxy.url, llm_server.model, str(cache)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if cache.exists():
                db = sqlite3.connect(cache)
                try:
                    if db.execute("SELECT count(*) FROM response").fetchone()[0] >= 2:
                        break
                except sqlite3.OperationalError:  # the tables are being created
                    pass
                finally:
                    db.close()
            time.sleep(0.05)
        proc.kill()  # no clean shutdown: like a crash
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = sqlite3.connect(cache)
    kept = db.execute("SELECT count(*) FROM response").fetchone()[0]
    db.close()
    assert 2 <= kept < 6
    asked = llm_proxy.requests
    llm_proxy.hold_s = 0
    with client(llm_proxy.url, tmp_path, llm_server.model) as c:
        answers = c.ask_all([text_request(i) for i in range(50, 56)])
        assert all(a.ok for a in answers) and c.usage.cached == kept and c.usage.paid_calls == 6 - kept
    assert llm_proxy.requests == asked + 6 - kept
