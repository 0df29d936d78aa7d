"""NautobotClient's batch calls (GraphQL device lookup, bulk notes, jobs) over a fake pynautobot api.

The fake ``api`` has what the client uses: ``base_url``, ``token``, ``http_session`` (``get``/``post``
answering canned responses, each request recorded) and ``extras.notes.create``.
"""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceNotFound,
    NautobotAuthenticationFailed,
    NautobotError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import DEVICE_FIELDS, NautobotClient

TOKEN = "0123456789abcdef0123456789abcdef01234567"
BASE = "http://nautobot.invalid/api"


def device(index, name=None, location="Site A", role="Access"):
    return {
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "name": name or f"dev{index}",
        "location": {"name": location},
        "role": {"name": role},
    }


class FakeResponse:
    def __init__(self, status_code, body):
        self.status_code = status_code
        self.body = body
        self.text = "" if body is None else str(body)

    def json(self):
        if self.body is None:
            raise ValueError("no JSON")
        return self.body


class FakeSession:
    """``post`` answers GraphQL from ``inventory`` (or ``graphql_answer``); ``get`` answers ``routes``."""

    def __init__(self, inventory=(), graphql_answer=None, routes=None):
        self.inventory = list(inventory)
        self.graphql_answer = graphql_answer
        self.routes = dict(routes or {})
        self.posts: list[dict] = []
        self.gets: list[dict] = []

    def post(self, url, json=None, headers=None):
        self.posts.append({"url": url, "json": json, "headers": headers})
        if url.endswith("/graphql/"):
            if self.graphql_answer is not None:
                return FakeResponse(*self.graphql_answer)
            return FakeResponse(200, {"data": {"devices": self._select(json["variables"])}})
        answer = self.routes[("POST", url)]
        return FakeResponse(*(answer() if callable(answer) else answer))

    def get(self, url, params=None, headers=None):
        self.gets.append({"url": url, "params": params, "headers": headers})
        answer = self.routes.get(("GET", url), (404, {"detail": "Not found."}))
        return FakeResponse(*(answer() if callable(answer) else answer))

    def _select(self, variables):
        """Nautobot's ``devices(...)``: every argument is a list of accepted values."""
        found = []
        for record in self.inventory:
            keep = True
            for key, values in variables.items():
                value = record.get(key)
                value = value.get("name") if isinstance(value, dict) else value
                if key == "id":
                    keep &= str(value).lower() in [v.lower() for v in values]
                else:
                    keep &= str(value) in values
            if keep:
                found.append(record)
        return found


class FakeNotes:
    def __init__(self, answer=None):
        self.calls = []
        self.answer = answer

    def create(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        if self.answer is not None:
            return self.answer
        return [{"id": f"note-{index}"} for index, _payload in enumerate(args[0], start=1)]


class FakeApi:
    def __init__(self, session, notes=None):
        self.base_url = BASE
        self.token = TOKEN
        self.http_session = session
        self.extras = type("Extras", (), {})()
        self.extras.notes = notes or FakeNotes()


def client_with(session, notes=None):
    return NautobotClient("http://nautobot.invalid", TOKEN, api=FakeApi(session, notes))


def queried(session):
    """The GraphQL variables of each query posted, in order."""
    return [post["json"]["variables"] for post in session.posts]


# --- get_devices -----------------------------------------------------------------------------------
def test_names_and_uuids_are_queried_in_chunks():
    inventory = [device(i) for i in range(1, 6)]
    session = FakeSession(inventory)
    uuid4, uuid5 = inventory[3]["id"], inventory[4]["id"].upper()
    named, selected, missing = client_with(session).get_devices(
        ["dev1", uuid4, "dev2", "dev3", uuid5, "ghost"], chunk=2
    )
    assert queried(session) == [
        {"id": [uuid4, uuid5]},
        {"name": ["dev1", "dev2"]},
        {"name": ["dev3", "ghost"]},
    ]
    assert [d["name"] for d in named] == ["dev1", "dev4", "dev2", "dev3", "dev5"]  # the order asked
    assert selected == []
    assert list(missing) == ["ghost"]
    assert isinstance(missing["ghost"], DeviceNotFound)
    assert missing["ghost"].message == "Device ghost was not found in Nautobot"
    first, second = session.posts[0], session.posts[1]
    assert first["url"] == BASE + "/graphql/"
    assert first["headers"]["Authorization"] == "Token " + TOKEN
    assert first["json"]["query"] == f"query ($id: [String]) {{ devices(id: $id) {{ {DEVICE_FIELDS} }} }}"
    assert second["json"]["query"] == f"query ($name: [String]) {{ devices(name: $name) {{ {DEVICE_FIELDS} }} }}"


def test_an_ambiguous_name_is_reported_not_guessed():
    twins = [device(1, name="dup"), device(2, name="dup"), device(3)]
    named, _selected, missing = client_with(FakeSession(twins)).get_devices(["dup", "dev3"])
    assert [d["name"] for d in named] == ["dev3"]
    error = missing["dup"]
    assert isinstance(error, DeviceNotFound) and error.code == "device_not_found"
    assert error.message == "Device name dup is ambiguous in Nautobot (2 devices); pass its UUID"
    assert error.details["candidates"] == [twins[0]["id"], twins[1]["id"]]


def test_a_device_named_twice_is_provisioned_once():
    one = device(1)
    named, _selected, missing = client_with(FakeSession([one])).get_devices(["dev1", one["id"], "dev1"])
    assert named == [one] and missing == {}


def test_filters_become_graphql_list_arguments():
    inventory = [device(1), device(2), device(3, location="Site B"), device(4, role="Core")]
    session = FakeSession(inventory)
    named, selected, missing = client_with(session).get_devices(
        ["dev1"], {"role": ["Access", "Spine"], "location": "Site A"}
    )
    assert [d["name"] for d in named] == ["dev1"]
    assert [d["name"] for d in selected] == ["dev2"]  # dev1 is named already
    assert missing == {}
    last = session.posts[-1]["json"]
    assert last["variables"] == {"location": ["Site A"], "role": ["Access", "Spine"]}
    assert last["query"].startswith("query ($location: [String], $role: [String]) { devices(location: $location, role:")


def test_filter_values_are_strings():
    session = FakeSession([])
    client_with(session).get_devices(filters={"has_primary_ip": True, "tag": ("a", 2)})
    assert queried(session) == [{"has_primary_ip": ["True"], "tag": ["a", "2"]}]


@pytest.mark.parametrize("name", ["Location", "location; drop", "9role", "role{ id }"])
def test_a_bad_filter_name_is_refused_without_a_query(name):
    session = FakeSession([device(1)])
    with pytest.raises(NautobotError, match="Not a Nautobot device filter name"):
        client_with(session).get_devices(filters={name: "x"})
    assert session.posts == []


@pytest.mark.parametrize("status", [200, 400])
def test_graphql_errors_carry_graphqls_message(status):
    answer = {"data": None, "errors": [{"message": 'Unknown argument "locaton" on field "devices".'}]}
    session = FakeSession(graphql_answer=(status, answer))
    with pytest.raises(NautobotError) as info:
        client_with(session).get_devices(filters={"locaton": "Site A"})
    assert info.value.__class__.__name__ == "NautobotError"  # not a subclass
    assert info.value.message == (
        "Nautobot refused the query while selecting devices by filter locaton=Site A: "
        'Unknown argument "locaton" on field "devices".'
    )


def test_several_graphql_errors_are_all_said():
    session = FakeSession(graphql_answer=(200, {"errors": [{"message": "one"}, {"message": "two"}]}))
    with pytest.raises(NautobotError, match="while querying GraphQL: one; two"):
        client_with(session).graphql("{ devices { id } }")


def test_graphql_http_error_without_graphql_errors():
    session = FakeSession(graphql_answer=(400, {"detail": "Bad request"}))
    with pytest.raises(NautobotError, match="HTTP 400 while looking up 1 device"):
        client_with(session).get_devices(["dev1"])


@pytest.mark.parametrize("status", [401, 403])
def test_graphql_refused_token(status):
    session = FakeSession(graphql_answer=(status, {"detail": "Invalid token"}))
    with pytest.raises(NautobotAuthenticationFailed) as info:
        client_with(session).get_devices(["dev1"])
    assert "Invalid token" in info.value.message and TOKEN not in info.value.message


def test_graphql_returns_data_and_sends_variables():
    session = FakeSession(graphql_answer=(200, {"data": {"x": 1}}))
    client = client_with(session)
    assert client.graphql("query ($a: String) { x }", {"a": "b"}) == {"x": 1}
    assert session.posts[0]["json"] == {"query": "query ($a: String) { x }", "variables": {"a": "b"}}
    assert client.graphql("{ x }") == {"x": 1} and session.posts[1]["json"]["variables"] == {}


def test_no_idents_and_no_filter_query_nothing():
    session = FakeSession([device(1)])
    assert client_with(session).get_devices() == ([], [], {})
    assert session.posts == []


# --- notes in bulk -------------------------------------------------------------------------
class Note:
    def __init__(self, note_id):
        self.id = note_id


def test_notes_are_one_list_in_one_request():
    notes = FakeNotes(answer=[Note(11), {"id": "n-12"}, Note("n-13")])
    client = client_with(FakeSession(), notes)
    ids = client.create_notes([("id1", "info", "a"), ("id2", "warning", "b"), ("id3", "success", "c")])
    assert ids == ["11", "n-12", "n-13"]
    assert notes.calls == [
        (
            (
                [
                    {"assigned_object_type": "dcim.device", "assigned_object_id": "id1", "note": "[info] a"},
                    {"assigned_object_type": "dcim.device", "assigned_object_id": "id2", "note": "[warning] b"},
                    {"assigned_object_type": "dcim.device", "assigned_object_id": "id3", "note": "[success] c"},
                ],
            ),
            {},
        )
    ]


def test_no_notes_no_request():
    notes = FakeNotes()
    assert client_with(FakeSession(), notes).create_notes([]) == []
    assert notes.calls == []


def test_a_bad_note_kind_writes_nothing():
    notes = FakeNotes()
    with pytest.raises(ValueError, match="note kind"):
        client_with(FakeSession(), notes).create_notes([("id1", "info", "a"), ("id2", "fatal", "b")])
    assert notes.calls == []


# --- jobs ------------------------------------------------------------------------------------------
JOB = {"id": "job-1", "name": "Generate Intended Configurations", "enabled": True}


_THE_JOB = object()


def job_session(states, job=_THE_JOB):
    """Nautobot with one job whose result passes through ``states`` (``job=None``: no such job)."""
    job = JOB if job is _THE_JOB else job
    answers = iter(states)
    return FakeSession(
        routes={
            ("GET", BASE + "/extras/jobs/"): (200, {"results": [job] if job else []}),
            ("POST", BASE + "/extras/jobs/job-1/run/"): (201, {"job_result": {"id": "jr1"}}),
            ("GET", BASE + "/extras/job-results/jr1/"): lambda: (
                200,
                {"id": "jr1", "status": {"value": next(answers)}, "date_created": "2026-11-25T10:00:00.000000Z"},
            ),
        }
    )


@pytest.mark.parametrize("final", ["SUCCESS", "FAILURE", "REVOKED"])
def test_run_job_waits_and_returns_the_job_result(final):
    session = job_session(["PENDING", "STARTED", final])
    sleeps = []
    result = client_with(session).run_job(JOB["name"], {"device": ["id1"]}, sleep=sleeps.append)
    assert result == {"id": "jr1", "status": {"value": final}, "date_created": "2026-11-25T10:00:00.000000Z"}
    assert len(sleeps) == 2
    assert session.gets[0]["params"] == {"name": JOB["name"]}
    assert session.posts[0]["json"] == {"data": {"device": ["id1"]}}


def test_run_job_on_a_job_queue_names_it_in_the_request():
    session = job_session(["SUCCESS"])
    client_with(session).run_job(JOB["name"], {"device": ["id1"]}, sleep=lambda _s: None, job_queue="renders")
    assert session.posts[0]["json"] == {"data": {"device": ["id1"]}, "job_queue": "renders"}


def test_run_job_unknown_or_disabled():
    with pytest.raises(NautobotError, match="has no job named"):
        client_with(job_session([], job=None)).run_job("Nope", {})
    with pytest.raises(NautobotError, match="is disabled"):
        client_with(job_session([], job=dict(JOB, enabled=False))).run_job(JOB["name"], {})


def test_run_job_gives_up_after_its_timeout():
    ticks = iter(range(0, 1000, 10))
    session = job_session(["RUNNING"] * 100)
    with pytest.raises(NautobotError, match="did not finish within 30 s"):
        client_with(session).run_job(JOB["name"], {}, timeout=30, clock=lambda: next(ticks), sleep=lambda _s: None)


def test_run_job_that_did_not_start_says_so():
    """A job that needs approval answers 201 with job_result null: a clear error, not a TypeError."""
    session = job_session([])
    session.routes[("POST", BASE + "/extras/jobs/job-1/run/")] = (
        201,
        {"scheduled_job": {"id": "s1"}, "job_result": None},
    )
    with pytest.raises(NautobotError, match="did not start job .* need approval"):
        client_with(session).run_job(JOB["name"], {})


def test_a_uuid_without_dashes_is_found():
    record = device(1)
    session = FakeSession([record])
    named, _selected, missing = client_with(session).get_devices([record["id"].replace("-", "").upper()])
    assert [d["id"] for d in named] == [record["id"]] and missing == {}
    assert queried(session) == [{"id": [record["id"]]}]
