"""Bad option values reaching library functions (gap queries, bench runs, scoring, the trainer,
benchmark import, exporters, review) are coded errors with a fix, never bare ValueErrors; at the
CLI they exit 2 with the code and leave the store unchanged."""
import json

import pytest
from sqlalchemy import func, select

from syllabus.errors import CATALOGUE, SyllabusError, check_choice
from syllabus.store import open_store
from syllabus.store.tables import Gap, Run


def _refused(code: str, call, *args, **kwargs) -> SyllabusError:
    with pytest.raises(SyllabusError) as refused:
        call(*args, **kwargs)
    assert refused.value.code == code
    assert refused.value.fix and "{" not in refused.value.message + refused.value.fix
    return refused.value


@pytest.fixture
def session(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with st.transaction() as s:
        yield s
    st.close()


def test_check_choice_names_the_option_the_value_and_what_is_allowed():
    err = _refused("E150", check_choice, "--sort", "size", ("score", "kind"))
    assert "--sort" in err.message and "`size`" in err.message and err.fix == "Use one of: score, kind."
    check_choice("--sort", None, ("score",))  # an option not given passes
    assert {"E150", "E151", "E152"} <= set(CATALOGUE)


def test_gap_queries_refuse_an_unknown_sort_kind_or_status(session):
    from syllabus.debug.queries import list_gaps

    assert "--sort" in _refused("E150", list_gaps, session, sort="size").message
    assert "--kind" in _refused("E150", list_gaps, session, kind="hole").message
    assert "--status" in _refused("E150", list_gaps, session, status="closed").message
    assert list_gaps(session) == []


def test_a_bench_run_refuses_an_unknown_backend_split_level_or_norm_before_opening_the_store():
    from syllabus.bench.runs import RunOptions, run_bench

    for opts, option in ((RunOptions(backend="llamacpp"), "--backend"), (RunOptions(split="train"), "--split"),
                         (RunOptions(level="L4"), "--level"), (RunOptions(norm="bytes"), "--norm")):
        assert option in _refused("E150", run_bench, None, opts).message  # no workspace needed: nothing was opened


def test_the_scorer_refuses_an_unknown_norm():
    from syllabus.bench.scoring import TransformersScorer

    assert "tokens, chars, none" in _refused("E150", TransformersScorer, None, norm="bytes").fix


def test_the_trainer_refuses_an_unknown_method():
    from syllabus.train.trainer import TrainOptions, train

    err = _refused("E150", train, None, TrainOptions(base="tiny", out="out", method="adamw"))
    assert "lora, full" in err.fix


def test_benchmark_import_refuses_an_unknown_split(session, tmp_path):
    from syllabus.bench.external import import_benchmark

    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "Q?", "choices": ["a", "b"], "answer_index": 0}) + "\n")
    assert "auto, dev, test" in _refused("E150", import_benchmark, session, path, ["mini"], split="train").fix


def test_export_refuses_a_validation_ratio_outside_0_1(tmp_path):
    from syllabus.compile.exporters import export_build

    err = _refused("E151", export_build, tmp_path / "missing", "openai", tmp_path / "out", validation=1.5)
    assert "--validation" in err.message and "1.5" in err.message and "[0, 1)" in err.fix
    assert not (tmp_path / "out").exists()


def test_review_refuses_an_unknown_decision(session):
    from syllabus.extract.review import decide

    assert "accept, reject" in _refused("E150", decide, session, ["x"], "maybe", "me").fix


def test_the_cli_reports_bad_choices_with_a_code_and_exit_2(tmp_path, cli):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "syllabus.toml").write_text("", encoding="utf-8")  # no disciplines, the default store
    assert cli(ws, "db", "upgrade").exit_code == 0
    for args, option in ((("gaps", "--sort", "size"), "--sort"), (("gaps", "--kind", "hole"), "--kind"),
                         (("bench", "list", "--level", "L9"), "--level"),
                         (("bench", "run", "--backend", "llamacpp"), "--backend"),
                         (("bench", "run", "--norm", "bytes"), "--norm"),
                         (("review", "--kind", "axiom"), "--kind")):
        result = cli(ws, *args)
        assert result.exit_code == 2 and "error E150" in result.stderr and option in result.stderr, (args, result.output)
        assert "fix: Use one of:" in result.stderr
    st = open_store(f"sqlite:///{ws / '.syllabus' / 'store.db'}")
    with st.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Gap)) == 0
        assert s.scalar(select(func.count()).select_from(Run)) == 0
    st.close()
