"""Plugins found through real entry points (a distribution's metadata on sys.path): a plugin adds
names; replacing a built-in renderer or exporter is E153 unless [plugins] override names it."""
import dataclasses
import textwrap

import pytest

from syllabus.compile import renderers as builtin
from syllabus.compile.exporters import exporters
from syllabus.compile.registry import renderers
from syllabus.config import parse_config
from syllabus.errors import SyllabusError

BUILTIN_NAME = builtin.BUILTIN[0].name


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "syl_shadow_plugin.py").write_text(textwrap.dedent("""
        import dataclasses
        from syllabus.compile import renderers as builtin

        RENDERER = dataclasses.replace(builtin.BUILTIN[0], version=builtin.BUILTIN[0].version + 1000)

        def export(splits, out, dataset_name):
            return {"train.txt": b"plugin"}

        def extract(doc, mentions):
            return []
        extract.name, extract.version = "patterns", "plugin-1"
    """), encoding="utf-8")
    info = tmp_path / "syl_shadow_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: syl-shadow-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(textwrap.dedent("""
        [syllabus.renderers]
        shadow = syl_shadow_plugin:RENDERER

        [syllabus.exporters]
        openai = syl_shadow_plugin:export
        plaintext = syl_shadow_plugin:export

        [syllabus.extractors]
        patterns = syl_shadow_plugin:extract
    """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_without_plugins_the_builtins_stand():
    assert BUILTIN_NAME in renderers() and "openai" in exporters()


def test_a_plugin_replacing_a_builtin_renderer_is_e153(plugin):
    with pytest.raises(SyllabusError) as err:
        renderers()
    assert err.value.code == "E153" and BUILTIN_NAME in str(err.value) and "syl_shadow_plugin:RENDERER" in str(err.value)
    replaced = renderers(override=[BUILTIN_NAME])[BUILTIN_NAME]
    assert replaced.version == builtin.BUILTIN[0].version + 1000 and dataclasses.is_dataclass(replaced)


def test_exporter_plugins_add_formats_and_replace_only_when_allowed(plugin):
    with pytest.raises(SyllabusError) as err:
        exporters()
    assert err.value.code == "E153" and "openai" in str(err.value)
    allowed = exporters(override=["openai"])
    assert {"openai", "plaintext", "sharegpt"} <= set(allowed)
    assert allowed["plaintext"]({}, None, "x") == {"train.txt": b"plugin"}


def test_override_is_read_from_the_workspace():
    cfg = parse_config(b"[plugins]\noverride = [\"openai\"]\n", "syllabus.toml")
    assert cfg.plugins.override == ["openai"]


def test_an_extractor_plugin_replacing_a_builtin_is_e153(plugin, monkeypatch):
    from syllabus.extract import registry

    monkeypatch.setattr(registry, "EXTRACTORS", dict(registry.EXTRACTORS))  # the allowed case replaces one
    with pytest.raises(SyllabusError) as err:
        registry.check(["patterns"])
    assert err.value.code == "E153" and "extractor" in str(err.value)
    registry.check(["patterns"], override=["patterns"])
    assert registry.get("patterns").version == "plugin-1"
