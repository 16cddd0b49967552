import os
from pathlib import Path

import pytest

from syllabus.config import DEFAULT_STORE_URL, find_workspace, load_workspace, parse_config
from syllabus.config_edit import init_workspace
from syllabus.errors import SyllabusError

GOOD = b"""
[store]
url = "sqlite:///.syllabus/x.db"

[[disciplines]]
name = "physics"
prefix = "phys"
iri = "https://example.org/physics/"
ontologies = ["ontologies/physics.ttl"]
corpora = ["corpora/physics"]
"""


def test_valid_config_loads_with_defaults():
    cfg = parse_config(GOOD, "syllabus.toml")
    assert cfg.disciplines[0].name == "physics"
    assert cfg.disciplines[0].ontologies == ["ontologies/physics.ttl"]
    assert parse_config(b"", "s.toml").store.url == DEFAULT_STORE_URL


@pytest.mark.parametrize("text, key, expected", [
    (b'[[disciplines]]\nname = "physics"\niri = "https://x/"\n', "disciplines[0] (`physics`).prefix", "present"),
    (b'[[disciplines]]\nname = "Physics"\nprefix = "p"\niri = "https://x/"\n', "disciplines[0] (`Physics`).name", "lower-case"),
    (b'[[disciplines]]\nname = "p"\nprefix = "p"\niri = "not an iri"\n', "disciplines[0] (`p`).iri", "absolute IRI"),
    (b'[store]\nurl = 3\n', "store.url", "string"),
    (b'[store]\nurll = "x"\n', "store.urll", "only the keys"),
    (b'[[disciplines]]\nname = "a"\nprefix = "p"\niri = "https://x/"\n'
     b'[[disciplines]]\nname = "a"\nprefix = "q"\niri = "https://y/"\n', "(top level)", "unique"),
])
def test_bad_key_names_file_key_and_expectation(text, key, expected):
    with pytest.raises(SyllabusError) as err:
        parse_config(text, "/ws/syllabus.toml")
    assert err.value.code == "E003"
    assert "/ws/syllabus.toml" in err.value.message
    assert f"`{key}`" in err.value.message
    assert expected in (err.value.message + err.value.fix)


def test_bad_toml_syntax_names_the_line():
    with pytest.raises(SyllabusError) as err:
        parse_config(b'[store]\nurl = "x"\nbroken =\n', "syllabus.toml")
    assert err.value.code == "E002" and "line 3" in err.value.message


def test_missing_workspace_is_e001(tmp_path):
    with pytest.raises(SyllabusError) as err:
        load_workspace(tmp_path)
    assert err.value.code == "E001" and "syllabus init" in err.value.fix


def test_init_scaffolds_and_refuses_to_overwrite(tmp_path):
    root = init_workspace(tmp_path / "ws")
    assert (root / "syllabus.toml").is_file() and (root / "ontologies").is_dir() and (root / "corpora").is_dir()
    ws = load_workspace(root)
    assert ws.store_url == f"sqlite:///{(root / '.syllabus/store.db').as_posix()}"
    before = (root / "syllabus.toml").read_bytes()
    with pytest.raises(SyllabusError) as err:
        init_workspace(root)
    assert err.value.code == "E005"
    assert (root / "syllabus.toml").read_bytes() == before


def test_workspace_selection_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SYLLABUS_WORKSPACE", str(tmp_path / "env"))
    assert find_workspace(tmp_path / "flag") == (tmp_path / "flag").resolve()
    assert find_workspace() == (tmp_path / "env").resolve()
    monkeypatch.delenv("SYLLABUS_WORKSPACE")
    monkeypatch.chdir(tmp_path)
    assert find_workspace() == Path(os.getcwd()).resolve()


def test_unknown_discipline_lists_known(tmp_path):
    (tmp_path / "syllabus.toml").write_bytes(GOOD)
    with pytest.raises(SyllabusError) as err:
        load_workspace(tmp_path).discipline("chemistry")
    assert err.value.code == "E004" and "physics" in err.value.fix
