from __future__ import annotations

import pytest

from spbe_kit.errors import InvalidInput
from spbe_kit.load import MAX_BYTES, load_yaml, parse_yaml


def codes(text: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        doc = parse_yaml(text, "t.yaml")
        if doc.problems:
            raise InvalidInput(doc.problems)
    return [(d.code, str(d.location)) for d in caught.value.diagnostics]


def test_positions_of_keys_and_items() -> None:
    doc = parse_yaml("a: 1\nb:\n  c: [x, y]\n", "t.yaml")
    assert doc.positions[("b", "c")] == (3, 3)
    assert str(doc.locate(("b", "c", 1))) == "t.yaml:3:10"
    assert str(doc.locate(("b", "missing"))) == "t.yaml:2:1"


def test_numeric_looking_text_keeps_its_digits() -> None:
    doc = parse_yaml("code: 32.10\nversion: 1.10\nn: 3\n", "t.yaml")
    assert doc.data == {"code": "32.10", "version": "1.10", "n": 3}


def test_every_duplicate_key_is_reported() -> None:
    assert codes("a: 1\nb: 2\na: 3\nb: 4\n") == [
        ("yaml-duplicate-key", "t.yaml:3:1"),
        ("yaml-duplicate-key", "t.yaml:4:1"),
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "yaml-empty"),
        ("# only a comment\n", "yaml-empty"),
        ("a: 1\n---\nb: 2\n", "yaml-multiple-documents"),
        ("a:\n\tb: 1\n", "yaml-tab"),
        ("a: [1\n", "yaml-syntax"),
        ("- 1\n- 2\n", "yaml-not-mapping"),
        ("? [a]\n: 1\n", "yaml-complex-key"),
    ],
)
def test_malformed_yaml(text: str, code: str) -> None:
    assert codes(text)[0][0] == code


def test_alias_bomb_is_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    assert codes("\n".join(lines) + "\n")[0][0] == "yaml-too-many-nodes"


def test_bytes_problems(tmp_path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: Kabupaten \xe9\n")
    with pytest.raises(InvalidInput) as caught:
        load_yaml(bad)
    assert caught.value.diagnostics[0].code == "yaml-not-utf8"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_yaml(bom).data == {"a": 1}
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"a: " + b"x" * (MAX_BYTES + 1))
    with pytest.raises(InvalidInput) as caught:
        load_yaml(huge)
    assert caught.value.diagnostics[0].code == "yaml-too-large"
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(b"a: 1\nb: \x00\n")
    with pytest.raises(InvalidInput) as caught:
        load_yaml(nul)
    assert [(d.code, d.location.line) for d in caught.value.diagnostics] == [("yaml-nul-byte", 2)]
