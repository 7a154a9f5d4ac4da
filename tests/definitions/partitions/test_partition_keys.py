"""The partition-key grammar, multi-dimension keys and safe path segments."""

from __future__ import annotations

import ast
import string
import sys
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

import legato.definitions._cron as cron_pkg
import legato.definitions.partitions as partitions_pkg
from legato.definitions.partitions import (
    DailyPartitions,
    DynamicPartitions,
    MultiPartitionKey,
    ProductPartitions,
    StaticPartitions,
    check_key,
    format_multi_key,
    key_to_path_segment,
    parse_multi_key,
    path_segment_to_key,
)
from legato.errors import PartitionError

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("../x", "path separator"),
        ("/etc/passwd", "path separator"),
        ("a\\b", "path separator"),
        ("..", "relative path segment"),
        (".", "relative path segment"),
        ("%2e%2e%2f", "percent-encoded"),
        ("%2E%2E", "percent-encoded"),
        ("..%2fetc", "percent-encoded"),
        ("%252e%252e", "percent-encoded"),
        ("%00", "percent-encoded"),
        ("%c0%ae", "not valid UTF-8"),
        ("a\x00b", "U+0000"),
        ("\x1b[31mred", "U+001B"),
        ("a\x7fb", "U+007F"),
        ("a\u202eb", "U+202E"),
        ("a\u2028b", "U+2028"),
        ("x" * 10_000, "more than 256"),
        (" a", "whitespace"),
        ("a\t", "whitespace"),
        ("", "empty"),
        ("a,b", "','"),
        ("a=b", "'='"),
        ("a|b", "'|'"),
        ("C:x", "drive"),
        ("\uff0e\uff0e", "look-alike"),
        ("a\uff0fb", "look-alike"),
    ],
)
def test_bad_keys_are_refused_with_the_reason(key: str, words: str) -> None:
    with pytest.raises(PartitionError) as info:
        check_key(key)
    message = str(info.value)
    assert words in message
    assert info.value.hint  # every refusal says how to fix it


@pytest.mark.parametrize(
    "key",
    [
        "2024-01-01",
        "2024-01-01-13:00",
        "2025-10-26-02:00+01:00",
        "eu-west-1",
        "Tenant_42",
        "model.v2",
        "a..b",
        "50%",
        "100%25",
        "über",
        "東京",
        "x" * 256,
        "a b",
        "...",
    ],
)
def test_normal_keys_pass(key: str) -> None:
    assert check_key(key) == key


def test_non_string_key_is_refused() -> None:
    with pytest.raises(PartitionError, match="must be a string"):
        check_key(42)


def test_multi_key_has_one_canonical_form() -> None:
    key = MultiPartitionKey({"tenant": "acme", "date": "2024-01-01"})
    assert str(key) == "tenant=acme,date=2024-01-01"
    assert key == MultiPartitionKey({"date": "2024-01-01", "tenant": "acme"})  # a mapping
    assert str(key.ordered(["date", "tenant"])) == "date=2024-01-01,tenant=acme"
    assert format_multi_key({"date": "d", "tenant": "t"}, ["tenant", "date"]) == "tenant=t,date=d"
    assert parse_multi_key("tenant=acme,date=2024-01-01") == key
    assert hash(key) == hash(MultiPartitionKey({"date": "2024-01-01", "tenant": "acme"}))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tenant=a,b,date=2024-01-01", "without '='"),
        ("tenant=a", "expected"),
        ("tenant=a,tenant=b,date=x", "twice"),
        ("bad name=a,date=x", "dimension name"),
        ("tenant=,date=x", "empty"),
        ("tenant=../x,date=x", "path separator"),
        ("", "empty"),
    ],
)
def test_malformed_multi_keys_are_refused(text: str, words: str) -> None:
    with pytest.raises(PartitionError, match=words):
        parse_multi_key(text, ["tenant", "date"])


def test_separator_in_a_product_dimension_value_is_refused() -> None:
    space = DynamicPartitions("tenant") * DailyPartitions("2024-01-01")
    with pytest.raises(PartitionError, match="separate the dimensions"):
        space.key(tenant="a,b", date="2024-01-01")
    with pytest.raises(PartitionError, match="values may not contain"):
        space.validate_key("tenant=a,b,date=2024-01-01", NOW, {"tenant": ["a"]})
    with pytest.raises(PartitionError, match="separate the dimensions"):
        StaticPartitions(["a,b"])
    with pytest.raises(PartitionError, match="separate the dimensions"):
        DynamicPartitions("tenant").check_new_key("a=b")


def test_product_key_with_separators_is_not_a_single_key() -> None:
    space = ProductPartitions(
        {"region": StaticPartitions(["eu"]), "date": DailyPartitions("2024-01-01")}
    )
    assert space.contains("region=eu,date=2024-01-01", NOW)
    assert not space.contains("region=eu,date=2024-01-01,extra=1", NOW)


@pytest.mark.parametrize(
    ("key", "segment"),
    [
        ("abc", "abc"),
        ("ABC", "%41%42%43"),
        (".hidden", "%2Ehidden"),
        ("a.", "a%2E"),
        ("..", "%2E%2E"),
        ("a/b", "a%2Fb"),
        ("2024-01-01-13:00", "2024-01-01-13%3A00"),
        ("nul", "%6Eul"),
        ("con.txt", "%63on.txt"),
        ("%", "%25"),
        ("über", "%C3%BCber"),
    ],
)
def test_path_segment_examples(key: str, segment: str) -> None:
    assert key_to_path_segment(key) == segment
    assert path_segment_to_key(segment) == key


def test_path_segment_refuses_empty_key() -> None:
    with pytest.raises(PartitionError):
        key_to_path_segment("")


def _assert_safe_segment(segment: str) -> None:
    assert segment and segment not in (".", "..")
    assert "/" not in segment and "\\" not in segment and "\x00" not in segment
    assert not segment.startswith(".") and not segment.endswith(".")
    assert len(segment.encode()) <= 255
    assert set(segment) <= set(string.ascii_lowercase + string.digits + "_.-%~ABCDEF")
    base = PurePosixPath("/data/asset")
    assert (base / segment).parent == base
    assert PureWindowsPath("C:/data", segment).parent == PureWindowsPath("C:/data")


@given(st.text(min_size=1, max_size=400))
def test_path_segment_never_escapes_for_any_text(key: str) -> None:
    _assert_safe_segment(key_to_path_segment(key))


@given(st.text(min_size=1, max_size=150), st.text(min_size=1, max_size=150))
def test_path_segments_never_collide_even_case_insensitively(a: str, b: str) -> None:
    if a != b:
        assert key_to_path_segment(a).casefold() != key_to_path_segment(b).casefold()


@given(st.text(min_size=1, max_size=16))  # at most 12 bytes of escapes per character: <= 200
def test_path_segment_round_trips(key: str) -> None:
    assert path_segment_to_key(key_to_path_segment(key)) == key


def test_long_keys_get_a_digest_segment() -> None:
    long_key = "é" * 256
    segment = key_to_path_segment(long_key)
    assert "~" in segment and len(segment) <= 200
    assert segment != key_to_path_segment("é" * 255 + "e")
    with pytest.raises(PartitionError, match="digest"):
        path_segment_to_key(segment)


@given(st.text(max_size=300))
def test_check_key_accepts_only_safe_keys(key: str) -> None:
    try:
        check_key(key)
    except PartitionError:
        return
    assert 1 <= len(key) <= 256 and key.strip() == key
    assert "/" not in key and "\\" not in key and key not in (".", "..")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in key)
    assert not set(key) & set(",=|")


def test_the_package_imports_only_the_standard_library_and_legato_errors() -> None:
    """The partitions and the cron engine they share with schedules stay pure."""
    folders = [Path(partitions_pkg.__file__).parent, Path(cron_pkg.__file__).parent]
    for path in (path for folder in folders for path in folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                allowed = (
                    top in sys.stdlib_module_names
                    or name == "legato.errors"
                    or name.startswith(
                        ("legato.definitions.partitions", "legato.definitions._cron")
                    )
                )
                assert allowed, f"{path.name} imports {name}"
