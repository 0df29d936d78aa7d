"""The change-log cursor: times compared as times, boundary ids, atomic saves."""

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import changelog_cursor as cc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-11-25T12:53:48.230098Z", datetime(2026, 11, 25, 12, 53, 48, 230098, UTC), id="Z"),
        pytest.param("2026-11-25T13:53:48.230098+01:00", datetime(2026, 11, 25, 12, 53, 48, 230098, UTC), id="+01"),
        pytest.param("2026-11-25T07:23:48.230098-05:30", datetime(2026, 11, 25, 12, 53, 48, 230098, UTC), id="-0530"),
        pytest.param("2026-11-25 12:53:48.230098+00:00", datetime(2026, 11, 25, 12, 53, 48, 230098, UTC), id="space"),
        pytest.param("2026-11-25T12:53:48Z", datetime(2026, 11, 25, 12, 53, 48, 0, UTC), id="no-fraction"),
        pytest.param("2026-11-25T12:53:48.2Z", datetime(2026, 11, 25, 12, 53, 48, 200000, UTC), id="one-digit"),
    ],
)
def test_parse_time_compares_as_time(text, expected):
    assert cc.parse_time(text) == expected


def test_times_that_sort_wrongly_as_text_compare_rightly():
    # As text, "12:00:00.5Z" > "12:00:00Z" > "12:30:00+01:00"; as times the last is the earliest.
    fraction, whole, other_zone = "2026-11-25T12:00:00.5Z", "2026-11-25T12:00:00Z", "2026-11-25T12:30:00+01:00"
    assert sorted([fraction, whole, other_zone]) == [fraction, whole, other_zone]  # text order: wrong
    assert sorted([fraction, whole, other_zone], key=cc.parse_time) == [other_zone, whole, fraction]
    assert cc.parse_time("2026-11-25T12:00:00.000001Z") > cc.parse_time("2026-11-25T12:00:00Z")
    assert cc.parse_time("2026-11-25T13:00:00+01:00") == cc.parse_time("2026-11-25T12:00:00Z")


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-11-25T12:00:00", None, 17, "2026-13-01T00:00:00Z"])
def test_parse_time_rejects_what_cannot_be_compared(bad):
    with pytest.raises(ValueError):
        cc.parse_time(bad)


def test_format_time_is_utc_with_microseconds():
    assert cc.format_time(cc.parse_time("2026-11-25T13:53:48+01:00")) == "2026-11-25T12:53:48.000000+00:00"


def cursor_at(text, **kwargs):
    when = cc.parse_time(text)
    return cc.Cursor(time=when, start=kwargs.pop("start", when), **kwargs)


def test_boundary_ties_are_kept_and_older_ids_pruned():
    cursor = cursor_at("2026-11-25T12:00:00Z")
    t = cc.parse_time
    cursor.mark("a", t("2026-11-25T12:00:01Z"))
    cursor.mark("b", t("2026-11-25T12:00:02.5Z"))
    cursor.mark("c", t("2026-11-25T13:00:02.5+01:00"))  # the same instant as b, another zone
    assert cursor.time == t("2026-11-25T12:00:02.5Z")
    cursor.prune(overlap=0)
    assert set(cursor.seen) == {"b", "c"}  # the ids AT the boundary time stay
    assert cursor.handled("b") and cursor.handled("c") and not cursor.handled("a")
    cursor.mark("old", t("2026-11-25T11:00:00Z"))  # a late change never moves the cursor back
    assert cursor.time == t("2026-11-25T12:00:02.5Z")


def test_overlap_keeps_the_window_ids():
    cursor = cursor_at("2026-11-25T12:00:00Z")
    base = cursor.time
    for second in range(0, 100, 10):
        cursor.mark(f"id{second}", base + timedelta(seconds=second))
    cursor.prune(overlap=30)
    assert sorted(cursor.seen) == ["id60", "id70", "id80", "id90"]
    assert cursor.window_start(30) == cc.parse_time("2026-11-25T12:01:00Z")


def test_emits_only_from_the_start():
    cursor = cursor_at("2026-11-25T12:00:00Z")
    assert cursor.emits(cc.parse_time("2026-11-25T12:00:00Z"))
    assert not cursor.emits(cc.parse_time("2026-11-25T11:59:59.999999Z"))


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "state" / "cursor.json"
    cursor = cursor_at("2026-11-25T12:00:00.123456Z", nautobot_url="http://nb:8080")
    cursor.mark("x", cc.parse_time("2026-11-25T12:00:00.123456Z"))
    cc.save_cursor(str(path), cursor)
    loaded = cc.load_cursor(str(path), "http://nb:8080/")
    assert loaded == cursor
    assert json.loads(path.read_text())["seen"] == {"x": "2026-11-25T12:00:00.123456+00:00"}
    assert oct(os.stat(path.parent).st_mode & 0o777) == "0o700"
    assert [p.name for p in path.parent.iterdir()] == ["cursor.json"]  # no temp file left


def test_a_crash_between_write_and_replace_leaves_the_old_cursor(tmp_path):
    path = tmp_path / "cursor.json"
    old = cursor_at("2026-11-25T12:00:00Z")
    cc.save_cursor(str(path), old)
    before = path.read_bytes()
    new = cursor_at("2026-11-25T13:00:00Z")

    def crash(_src, _dst):
        raise KeyboardInterrupt("killed between the write and the replace")

    with pytest.raises(KeyboardInterrupt):
        cc.save_cursor(str(path), new, replace=crash)
    assert path.read_bytes() == before
    assert cc.load_cursor(str(path)) == old
    assert [p.name for p in tmp_path.iterdir()] == ["cursor.json"]


def test_a_torn_write_is_never_read(tmp_path, monkeypatch):
    # The temp file is written fully and fsynced before the replace: record the order of operations.
    path = tmp_path / "cursor.json"
    order = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(cc.os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])

    def replace(src, dst):
        order.append("replace")
        assert json.loads(open(src).read())["time"].startswith("2026-11-25T12:00:00")
        real_replace(src, dst)

    cc.save_cursor(str(path), cursor_at("2026-11-25T12:00:00Z"), replace=replace)
    assert order[:2] == ["fsync", "replace"]


def test_no_file_means_no_cursor(tmp_path):
    assert cc.load_cursor(str(tmp_path / "missing.json")) is None


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"version": 2}',
        '{"version": 1, "time": "yesterday"}',
        '{"version": 1, "time": "2026-11-25T12:00:00"}',
    ],
)
def test_a_bad_file_is_refused_clearly(tmp_path, content):
    path = tmp_path / "cursor.json"
    path.write_text(content)
    with pytest.raises(cc.CursorError, match="is not valid.*fix or delete it"):
        cc.load_cursor(str(path))


def test_a_cursor_of_another_nautobot_is_refused(tmp_path):
    path = tmp_path / "cursor.json"
    cc.save_cursor(str(path), cursor_at("2026-11-25T12:00:00Z", nautobot_url="http://one:8080"))
    with pytest.raises(cc.CursorError, match="belongs to http://one:8080"):
        cc.load_cursor(str(path), "http://two:8080")


def test_default_path_is_under_the_state_dir():
    assert cc.default_cursor_path("https://nautobot.example.com:8443", {"XDG_STATE_HOME": "/var/state"}) == (
        "/var/state/sotsync.nautobot/changelog-nautobot.example.com_8443.json"
    )
    home = cc.default_cursor_path("http://127.0.0.1:8080", {})
    assert home.endswith("/.local/state/sotsync.nautobot/changelog-127.0.0.1_8080.json")
