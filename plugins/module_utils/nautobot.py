# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin Nautobot client over pynautobot that speaks in typed errors.

- every request has a timeout (requests has none by default: a hung Nautobot would hang the play);
- connection faults -> ``NautobotUnreachable``; 401/403 -> ``NautobotAuthenticationFailed``;
  an unknown or ambiguous device -> a ``DeviceNotFound`` in ``get_devices``' missing; anything else ->
  ``NautobotError``;
- the token never appears in a message (it travels only in the ``Authorization`` header).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback
import uuid

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceNotFound,
    MissingDependency,
    NautobotAuthenticationFailed,
    NautobotError,
    NautobotUnreachable,
)

try:
    import pynautobot
    import requests
    from requests.adapters import HTTPAdapter

    HAS_PYNAUTOBOT = True
    PYNAUTOBOT_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only without the dependency
    HAS_PYNAUTOBOT = False
    PYNAUTOBOT_IMPORT_ERROR = traceback.format_exc()
    HTTPAdapter = object

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
NOTE_KINDS = ("info", "success", "warning", "danger")
# Devices (or Golden Config records) asked for in one request: short URLs, few round trips.
DEVICE_QUERY_CHUNK = 100
FILTER_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# What the batch reads of each device: readiness (platform, primary IPv4, status), the connection
# (config context's napalm.optional_args), its names, and its secrets group for its NAPALM login
# (``credentials``: each secret's provider and parameters; Nautobot never returns a secret's value). The
# shape of the REST API's depth-1 device. A token that cannot view secrets groups gets ``null`` there.
SECRETS_GROUP_FIELDS = (
    "secrets_group { name secrets_group_associations { access_type secret_type secret { name provider parameters } } }"
)
DEVICE_FIELDS = (
    "id name status { name } role { name } location { name } "
    "platform { name napalm_driver network_driver network_driver_mappings } "
    "primary_ip4 { id address } config_context " + SECRETS_GROUP_FIELDS
)


def _describe_filter(filters):
    return ", ".join("{0}={1}".format(k, v) for k, v in sorted(filters.items()))


def is_uuid(value):
    return bool(UUID_RE.match(str(value or "").strip()))


def canonical_uuid(value):
    """``0B0E6C0E11114222...`` or with dashes -> ``0b0e6c0e-1111-4222-...`` (as Nautobot writes it)."""
    return str(uuid.UUID(str(value).strip()))


class _TimeoutAdapter(HTTPAdapter):
    """Give every request of the session a default timeout."""

    def __init__(self, timeout, *args, **kwargs):
        self._timeout = timeout
        super(_TimeoutAdapter, self).__init__(*args, **kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super(_TimeoutAdapter, self).send(request, **kwargs)


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _connection_reason(exc):
    """``connection refused``, ``timed out``...: the useful end of a requests exception."""
    text = str(exc)
    match = _ERRNO.search(text)
    if match:
        return "{0} ({1})".format(type(exc).__name__, match.group(1).strip().rstrip(".").lower())
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return "{0} (timed out)".format(type(exc).__name__)
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "{0} (connection closed by the server)".format(type(exc).__name__)
    return type(exc).__name__


def _response_detail(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300]
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return str(body)[:300]


class NautobotClient(object):
    """What the provisioning flow needs from Nautobot, nothing more."""

    def __init__(self, url, token, validate_certs=True, timeout=30, api=None):
        if api is None:
            if not HAS_PYNAUTOBOT:
                raise MissingDependency(
                    "The Python library pynautobot is required (pip install pynautobot)",
                    exception=PYNAUTOBOT_IMPORT_ERROR,
                )
            api = pynautobot.api(url, token=token, verify=validate_certs)
            adapter = _TimeoutAdapter(timeout)
            api.http_session.mount("http://", adapter)
            api.http_session.mount("https://", adapter)
        self.api = api
        self.url = str(url).rstrip("/")

    # --- error translation ----------------------------------------------------------------------
    def _raise_for(self, exc, what):
        """Translate a requests/pynautobot exception into a typed error (never returns)."""
        if HAS_PYNAUTOBOT:
            if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
                raise NautobotUnreachable(
                    "Nautobot at {0} is unreachable while {1}: {2}".format(self.url, what, _connection_reason(exc)),
                    nautobot_url=self.url,
                )
            req = getattr(exc, "req", None)
            if req is not None:
                self._raise_for_status(req.status_code, _response_detail(req), what)
            if isinstance(exc, requests.exceptions.RequestException):
                raise NautobotError("Nautobot request failed while {0}: {1}".format(what, exc))
        raise exc

    def _raise_for_status(self, status_code, detail, what):
        if status_code in (401, 403):
            raise NautobotAuthenticationFailed(
                "Nautobot refused the API token while {0} (HTTP {1}: {2}); check nautobot_token "
                "(NAUTOBOT_TOKEN) and the token user's permissions".format(what, status_code, detail),
                nautobot_url=self.url,
                status_code=status_code,
            )
        raise NautobotError(
            "Nautobot answered HTTP {0} while {1}: {2}".format(status_code, what, detail),
            nautobot_url=self.url,
            status_code=status_code,
        )

    def _headers(self):
        return {"Authorization": "Token {0}".format(self.api.token), "Accept": "application/json"}

    # --- reads ------------------------------------------------------------------------------------
    def get_json(self, path, params=None):
        """GET ``/api/<path>``; return ``(status_code, body)`` for 2xx/400/404, raise on the rest."""
        return self._json_request("get", path, "reading", params=params or {})

    def _json_request(self, method, path, doing, **kwargs):
        """One request to ``/api/<path>``: ``(status_code, body)`` for 2xx/400/404, raise on the rest."""
        what = "{0} /api/{1}".format(doing, path.lstrip("/"))
        url = "{0}/{1}".format(self.api.base_url, path.lstrip("/"))
        try:
            response = getattr(self.api.http_session, method)(url, headers=self._headers(), **kwargs)
        except Exception as exc:  # noqa: BLE001 - translated or re-raised by _raise_for
            self._raise_for(exc, what)
        if response.status_code in (401, 403) or response.status_code >= 500:
            self._raise_for_status(response.status_code, _response_detail(response), what)
        try:
            body = response.json()
        except ValueError:
            body = {"detail": (response.text or "").strip()[:300]}
        return response.status_code, body

    def device_notes(self, device_id, limit=200):
        """The notes on a device, as dicts with ``note`` and ``created`` (one request)."""
        params = {"assigned_object_id": str(device_id), "limit": int(limit), "depth": 0}
        status, body = self.get_json("extras/notes/", params=params)
        if status != 200 or not isinstance(body, dict):
            raise NautobotError(
                "Nautobot answered {0} reading the device's notes: {1}".format(status, str(body)[:200]),
                status_code=status,
            )
        return list(body.get("results") or [])

    def object_changes(self, object_ids, limit=100):
        """The newest ``limit`` object changes of the objects ``object_ids`` (one request), newest first."""
        params = [("changed_object_id", str(i)) for i in object_ids] + [("limit", int(limit)), ("depth", 0)]
        status, body = self.get_json("extras/object-changes/", params=params)
        if status != 200 or not isinstance(body, dict):
            raise NautobotError(
                "Nautobot answered {0} reading the change log: {1}".format(status, str(body)[:200]),
                status_code=status,
            )
        return list(body.get("results") or [])

    def run_job(self, name, data, timeout=120, interval=0.25, clock=None, sleep=None, job_queue=None):
        """Run the Nautobot job called ``name`` with ``data`` and wait for it; return its job result.

        ``job_queue`` names the Nautobot job queue to run it on (none: the job's default queue).

        The job result is Nautobot's dict (``status.value`` is ``SUCCESS``, ``FAILURE`` or ``REVOKED``;
        ``id``, ``date_created``...).

        Raises ``NautobotError`` when the job does not exist, is disabled, or does not finish in time.
        """
        clock = clock or time.monotonic
        sleep = sleep or time.sleep
        what = "running job {0}".format(name)
        status, body = self.get_json("extras/jobs/", {"name": name})
        jobs = (body or {}).get("results") if isinstance(body, dict) else None
        if status != 200 or not jobs:
            raise NautobotError("Nautobot has no job named {0!r}".format(name), nautobot_url=self.url)
        job = jobs[0]
        if not job.get("enabled", True):
            raise NautobotError("Nautobot's job {0!r} is disabled; enable it to use it".format(name))
        url = "{0}/extras/jobs/{1}/run/".format(self.api.base_url, job["id"])
        try:
            body = {"data": data}
            if job_queue:
                body["job_queue"] = job_queue
            response = self.api.http_session.post(url, json=body, headers=self._headers())
        except Exception as exc:  # noqa: BLE001 - translated or re-raised by _raise_for
            self._raise_for(exc, what)
        if response.status_code >= 300:
            self._raise_for_status(response.status_code, _response_detail(response), what)
        try:
            body = response.json()
        except ValueError:
            body = {}
        job_result = body.get("job_result") if isinstance(body, dict) else None
        if not job_result or not job_result.get("id"):
            raise NautobotError(
                "Nautobot did not start job {0!r} (it may need approval or be scheduled): {1}".format(
                    name, str(body)[:300]
                ),
                nautobot_url=self.url,
            )
        result_id = job_result["id"]
        deadline = clock() + timeout
        while True:
            status, result = self.get_json("extras/job-results/{0}/".format(result_id))
            state = ((result or {}).get("status") or {}).get("value") if isinstance(result, dict) else None
            if state in ("SUCCESS", "FAILURE", "REVOKED"):
                return result
            if clock() > deadline:
                raise NautobotError("Nautobot's job {0!r} did not finish within {1} s".format(name, timeout))
            sleep(interval)

    def graphql(self, query, variables=None, what="querying GraphQL"):
        """POST a GraphQL query; return its ``data`` or raise ``NautobotError`` with GraphQL's message."""
        url = "{0}/graphql/".format(self.api.base_url)
        try:
            response = self.api.http_session.post(
                url, json={"query": query, "variables": variables or {}}, headers=self._headers()
            )
        except Exception as exc:  # noqa: BLE001 - translated or re-raised by _raise_for
            self._raise_for(exc, what)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (401, 403) or (response.status_code >= 300 and not body.get("errors")):
            self._raise_for_status(response.status_code, _response_detail(response), what)
        if body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
            raise NautobotError("Nautobot refused the query while {0}: {1}".format(what, messages))
        return body.get("data") or {}

    def _query_devices(self, args, variables, what):
        query = "query ({0}) {{ devices({1}) {{ {2} }} }}".format(
            ", ".join("${0}: [String]".format(name) for name in args),
            ", ".join("{0}: ${0}".format(name) for name in args),
            DEVICE_FIELDS,
        )
        return self.graphql(query, variables, what).get("devices") or []

    def get_devices(self, idents=None, filters=None, chunk=DEVICE_QUERY_CHUNK):
        """Many devices in few GraphQL queries, with what readiness and a connection need.

        ``idents``: names and/or UUIDs, ``chunk`` per query. ``filters``: Nautobot device filters
        (``{"location": "Site A", "role": ["Access"]}``), as GraphQL's ``devices`` takes them.
        Each device is a dict shaped like the REST API's at depth 1 (``platform``, ``primary_ip4``,
        ``status``, ``config_context``...). One GraphQL query costs about what a REST call with
        ``include=config_context`` costs for a single device.

        Returns ``(named, selected, missing)``: the devices named, in the order asked; the devices the
        filters add; a dict ``ident -> DeviceNotFound`` for names or UUIDs Nautobot does not know or that
        are ambiguous. Connection and permission faults raise (they concern the whole batch).
        """
        idents = [str(i).strip() for i in (idents or []) if str(i or "").strip()]
        devices, selected, missing, seen = [], [], {}, set()
        by_key = {}
        for key in filters or {}:
            if not FILTER_NAME.match(str(key)):
                raise NautobotError("Not a Nautobot device filter name: {0!r}".format(key))
        uuids = [i for i in idents if is_uuid(i)]
        names = [i for i in idents if not is_uuid(i)]
        for start in range(0, len(uuids), chunk):
            part = uuids[start : start + chunk]
            for record in self._query_devices(
                ["id"], {"id": [canonical_uuid(i) for i in part]}, "looking up {0} device(s)".format(len(part))
            ):
                by_key[canonical_uuid(record.get("id"))] = [record]
        for start in range(0, len(names), chunk):
            part = names[start : start + chunk]
            for record in self._query_devices(["name"], {"name": part}, "looking up {0} device(s)".format(len(part))):
                by_key.setdefault("name:" + str(record.get("name")), []).append(record)
        for ident in idents:
            found = by_key.get(canonical_uuid(ident) if is_uuid(ident) else "name:" + ident) or []
            if not found:
                missing[ident] = DeviceNotFound("Device {0} was not found in Nautobot".format(ident), device=ident)
            elif len(found) > 1:
                missing[ident] = DeviceNotFound(
                    "Device name {0} is ambiguous in Nautobot ({1} devices); pass its UUID".format(ident, len(found)),
                    device=ident,
                    candidates=[str(r.get("id")) for r in found],
                )
            elif str(found[0].get("id")) not in seen:
                seen.add(str(found[0].get("id")))
                devices.append(found[0])
        if filters:
            args, variables = [], {}
            for key, value in sorted(filters.items()):
                if not FILTER_NAME.match(str(key)):
                    raise NautobotError("Not a Nautobot device filter name: {0!r}".format(key))
                args.append(str(key))
                values = value if isinstance(value, (list, tuple)) else [value]
                variables[str(key)] = [str(v) for v in values]
            what = "selecting devices by filter {0}".format(_describe_filter(filters))
            for record in self._query_devices(args, variables, what):
                if str(record.get("id")) not in seen:
                    seen.add(str(record.get("id")))
                    selected.append(record)
        return devices, selected, missing

    # --- writes -----------------------------------------------------------------------------------
    def patch_json(self, path, data):
        """PATCH ``/api/<path>`` with ``data``; return ``(status_code, body)`` for 2xx/400/404, raise on the rest."""
        return self._json_request("patch", path, "updating", json=data)

    def create_note(self, device_id, kind, comments, object_type="dcim.device"):
        """Write a note on the device (Nautobot's Notes, ``/api/extras/notes/``, Markdown); return its id.

        The note's ``kind`` leads its text, e.g. ``[success]``. ``object_type`` notes another kind of
        object (``nautobot_golden_config.configplan``: a config plan, ``device_id`` then its id).
        """
        if kind not in NOTE_KINDS:
            raise ValueError("note kind must be one of %s" % ", ".join(NOTE_KINDS))
        try:
            entry = self.api.extras.notes.create(
                assigned_object_type=object_type,
                assigned_object_id=str(device_id),
                note="[{0}] {1}".format(kind, comments),
            )
        except Exception as exc:  # noqa: BLE001 - translated or re-raised by _raise_for
            self._raise_for(
                exc, "writing a note on the {0}".format("device" if object_type == "dcim.device" else object_type)
            )
        return str(entry.id if not isinstance(entry, dict) else entry["id"])

    def create_notes(self, entries):
        """Write many notes (``[(device_id, kind, comments), ...]``) in one request.

        Returns their ids in order. Nautobot's REST API creates a list in one POST.
        """
        payload = []
        for device_id, kind, comments in entries:
            if kind not in NOTE_KINDS:
                raise ValueError("note kind must be one of %s" % ", ".join(NOTE_KINDS))
            payload.append(
                {
                    "assigned_object_type": "dcim.device",
                    "assigned_object_id": str(device_id),
                    "note": "[{0}] {1}".format(kind, comments),
                }
            )
        if not payload:
            return []
        try:
            created = self.api.extras.notes.create(payload)
        except Exception as exc:  # noqa: BLE001 - translated or re-raised by _raise_for
            self._raise_for(exc, "writing {0} notes".format(len(payload)))
        return [str(e.id if not isinstance(e, dict) else e["id"]) for e in created]
