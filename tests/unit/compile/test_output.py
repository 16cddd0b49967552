"""Writing builds: the manifest's text."""
import json

from syllabus.compile.output import manifest_text


def test_manifest_text_is_the_manifest_with_one_removal_per_line():
    manifest = {"build": "0001-x", "counts": {"examples": 3}, "quality": {"removed": [
        {"id": "ex-2", "reason": "exact duplicate of ex-1", "task": "t"}, {"id": "ex-3", "reason": "é", "task": "t"}]}}
    text = manifest_text(manifest)
    assert json.loads(text) == manifest
    assert '      {"id": "ex-3", "reason": "é", "task": "t"}\n' in text
    empty = {**manifest, "quality": {"removed": []}}
    assert json.loads(manifest_text(empty)) == empty
