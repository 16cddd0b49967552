import json

import pytest

from syllabus.compile.fingerprint import canonical, compact_encoder

VALUES = [
    {"b": 1, "a": [1.5, None, True, False, "x\u00e9\"\n\\", {"z": 2, "y": [-0.0, 1e300, 10**30]}]},
    "a plain string", "\u2028\x00 control and separator characters", 3, 2.0, [], {}, [[[]]],
    {"emoji": "\U0001f600", "keys": {"10": 1, "9": 2}},
]


@pytest.mark.parametrize("value", VALUES)
def test_compact_encoders_equal_json_dumps(value):
    assert canonical(value) == json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert compact_encoder()(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_compact_encoder_keeps_insertion_order_unless_sorting():
    assert compact_encoder()({"b": 1, "a": 2}) == '{"b":1,"a":2}'
    assert canonical({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def test_compact_encoder_rejects_what_json_cannot_hold():
    with pytest.raises(TypeError, match="not JSON serializable"):
        canonical({"a": object()})
    assert canonical([float("nan")]) == "[NaN]"  # as json.dumps writes it (allow_nan)
