"""Scrubbing the configuration copies earlier versions left in notes: the logic (``note_scrub``) and
the real ``NautobotClient`` against the fake Nautobot HTTP server of ``nautobot_http``."""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import note_scrub, rollback
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import note_text
from tests.unit.plugins.module_utils.nautobot_http import TOKEN, FakeNautobotServer, client_for

DEVICE_ID = "0b0e6c0e-1111-4222-8333-444455556666"
BEFORE = "hostname access1\nntp authentication-key 1 md5 7 075E731F1A\nsnmp-server community Publ1cRO ro"
# what the old single regex left readable in the diff: the type-7 NTP key
OLD_DIFF = "-hostname access1\n+hostname access-switch-1\n+ntp authentication-key 1 <removed> 7 075E731F1A"


def legacy_note(driver="eos"):
    """A note as earlier versions wrote it after a live commit: the configuration before the push at its end."""
    text = note_text(
        "access1",
        "commit",
        "Configuration committed successfully",
        "manual",
        "regenerate",
        "",
        extra={
            "driver": f"{driver} at 127.0.1.11",
            "rollback point": rollback.point_line(BEFORE, BEFORE + "\nhostname x")[len(rollback.MARK) :],
        },
        appendix=rollback.BEFORE_TITLE
        + " (secrets masked)\n\n```text\n"
        + BEFORE.replace("Publ1cRO", "<removed>")
        + "\n```",
    )
    # the diff as the old masking wrote it (note_text masks again now: put the old text back in)
    text = text.replace("No differences.", "```diff\n" + OLD_DIFF + "\n```")
    return "[success] " + text


def test_a_legacy_note_loses_its_copy_and_keeps_its_point():
    old = legacy_note()
    new, removed = note_scrub.scrubbed_text(old)
    assert removed == 7 and rollback.BEFORE_TITLE not in new and "075E731F1A" not in new
    assert "ntp authentication-key 1" not in new.split("```diff", maxsplit=1)[0]
    point, again = rollback.parse_point(new), rollback.parse_point(old)
    assert (point["before"], point["after"]) == (again["before"], again["after"])
    assert point["before_config"] is None and point["restore"].startswith("flash:rollback-0")
    assert "+hostname access-switch-1" in point["diff"] and note_scrub.SCRUBBED_LINE in new
    assert new.startswith("[success] **sotsync.nautobot.golden_config_deploy** on access1")
    assert note_scrub.scrubbed_text(new) == (None, 0)  # scrubbed once, found no more


def test_other_notes_are_left_alone():
    assert note_scrub.scrubbed_text("[info] a note by a person about the Running configuration") == (None, 0)
    dry = "[info] **sotsync.nautobot.golden_config_deploy** on access1: dry run\n\n```diff\n+x\n```"
    assert note_scrub.scrubbed_text(dry) == (None, 0)


def test_a_block_cut_short_is_removed_to_the_end():
    old = legacy_note(driver="junos")
    cut = old[: old.rindex("\n```")]
    new, removed = note_scrub.scrubbed_text(cut)
    assert rollback.BEFORE_TITLE not in new and removed >= 4 and "- device restore point: rollback 1" in new


@pytest.fixture
def nautobot():
    server = FakeNautobotServer()
    notes = {
        "n1": {"id": "n1", "assigned_object_id": DEVICE_ID, "created": "2026-11-25T10:00:00Z", "note": legacy_note()},
        "n2": {"id": "n2", "assigned_object_id": DEVICE_ID, "created": "2026-11-25T11:00:00Z", "note": legacy_note()},
        "n3": {"id": "n3", "assigned_object_id": DEVICE_ID, "created": "2026-11-25T12:00:00Z", "note": "[info] q"},
    }
    order = ["n1", "n2", "n3"]

    def listing(query):
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        page = [notes[i] for i in order[offset : offset + limit]]
        more = offset + limit < len(order)
        return {"count": len(order), "next": "more" if more else None, "results": page}

    server.routes[("GET", "/api/extras/notes/")] = (200, listing)
    for note_id in order:
        server.routes[("PATCH", f"/api/extras/notes/{note_id}/")] = (200, {"id": note_id})
    yield server, notes
    server.close()


def test_dry_run_lists_and_writes_nothing(nautobot):
    server, _notes = nautobot
    result = note_scrub.scrub_notes(client_for(server), dry_run=True)
    assert result["changed"] and result["dry_run"] and [n["id"] for n in result["notes"]] == ["n1", "n2"]
    assert "would rewrite 2" in result["msg"]
    assert not [r for r in server.requests if r["method"] == "PATCH"]
    first = server.requests[0]
    assert first["query"]["q"] == ["Running configuration before this push"]
    assert first["query"]["assigned_object_type"] == ["dcim.device"] and first["auth"] == "Token " + TOKEN


def test_live_rewrites_each_note_reading_every_page(nautobot, monkeypatch):
    server, _notes = nautobot
    monkeypatch.setattr(note_scrub, "PAGE_SIZE", 2)
    result = note_scrub.scrub_notes(client_for(server), dry_run=False, log=lambda _m: None)
    pages = [r for r in server.requests if r["method"] == "GET"]
    assert len(pages) == 2 and result["msg"].endswith("rewrote 2")
    patches = [r for r in server.requests if r["method"] == "PATCH"]
    assert [p["path"] for p in patches] == ["/api/extras/notes/n1/", "/api/extras/notes/n2/"]
    for patch in patches:
        assert rollback.BEFORE_TITLE not in patch["body"]["note"] and "075E731F1A" not in patch["body"]["note"]
        assert "- rollback point: before sha256:" in patch["body"]["note"]


def test_a_refused_write_is_reported_and_the_rest_written(nautobot):
    server, _notes = nautobot
    server.routes[("PATCH", "/api/extras/notes/n1/")] = (400, {"note": ["refused"]})
    result = note_scrub.scrub_notes(client_for(server), dry_run=False)
    assert [n["id"] for n in result["failed_notes"]] == ["n1"] and [n["id"] for n in result["notes"]] == ["n2"]
    assert "1 could not be written" in result["msg"]
