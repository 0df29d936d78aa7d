# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The intended configuration from Nautobot Golden Config: fetch, parse, refuse what is unusable.

Two sources:
- ``regenerate`` (default): ``GET /api/plugins/golden-config/generate-intended-config/?device_id=<uuid>``
  renders now from the templates; answers ``{"intended_config": ...}`` or 400 ``{"detail": ...}``.
- ``stored``: ``GET /api/plugins/golden-config/golden-config/?device=<uuid>``, the result of the last
  "Generate Intended Configurations" job (``intended_config``, ``intended_last_success_date``).

For many devices at once (``render_by_job``): one run of that job for all of them (it syncs the
template repository once, renders each device with the same GraphQL query, Jinja environment and
template as the on-demand render, and stores the result), then their stored records read in a few
requests. The on-demand endpoint cannot be called concurrently: it fetches and hard-resets the
template repository's working copy on every call, without a lock.

The parse functions take a status code and a decoded body so they are tested without HTTP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import random
import re
import time

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    IntentUnavailable,
    NautobotError,
    ProvisionError,
    RenderFailed,
)

SOURCES = ("regenerate", "stored")  # one device; the batch adds "job" and "auto" (batch.py)
GENERATE_PATH = "plugins/golden-config/generate-intended-config/"
STORED_PATH = "plugins/golden-config/golden-config/"
NO_SETTINGS = "No Golden Config settings found for this device"
# The on-demand render syncs the template repository on every call; concurrent renders (several
# devices provisioned at once) race on that checkout and some answer this. It is transient: retry.
GIT_SYNC_RACE = "Error trying to sync git repository"
RENDER_ATTEMPTS = 6
INTENDED_JOB = "Generate Intended Configurations"


class Intent(object):
    """An intended configuration and where it came from."""

    def __init__(self, config, source, render_seconds=None, age_seconds=None, last_success=None):
        self.config = config
        self.source = source
        self.render_seconds = render_seconds
        self.age_seconds = age_seconds
        self.last_success = last_success

    def __repr__(self):
        return "Intent(source=%r, %d chars)" % (self.source, len(self.config or ""))


def _detail(body):
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if body.get(key):
                return str(body[key])
        return str(body) if body else ""
    return str(body or "").strip()


def has_content(config):
    """True when the text has a line that is not blank, not a ``!`` comment and not ``end``."""
    for line in (config or "").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("!") and stripped != "end":
            return True
    return False


def require_content(config, device_name, source):
    """Refuse an empty render: it would merge nothing and hide a template fault."""
    if not isinstance(config, str) or not has_content(config):
        if source == "stored":
            raise IntentUnavailable(
                "The stored intended configuration of {0} is empty; run Golden Config's "
                "'Generate Intended Configurations' job or use intent_source=regenerate".format(device_name),
                device=device_name,
                intent_source=source,
            )
        raise RenderFailed(
            "Golden Config rendered an empty intended configuration for {0}".format(device_name),
            device=device_name,
            intent_source=source,
        )
    return config


def parse_generated(status_code, body, device_name):
    """Parse the on-demand render answer; return the config text or raise ``RenderFailed``."""
    if status_code == 400:
        raise RenderFailed(
            "Golden Config failed to render the intended configuration of {0}: {1}".format(
                device_name, _detail(body) or "no detail given"
            ),
            device=device_name,
            intent_source="regenerate",
            detail=_detail(body),
        )
    if status_code == 404:
        raise NautobotError(
            "Nautobot has no Golden Config render endpoint (HTTP 404): is the nautobot_golden_config app "
            "installed (version 2.x or later)? {0}".format(_detail(body)).strip(),
            device=device_name,
        )
    if status_code >= 300:
        raise NautobotError(
            "Golden Config render of {0} failed with HTTP {1}: {2}".format(device_name, status_code, _detail(body)),
            device=device_name,
            status_code=status_code,
        )
    if not isinstance(body, dict) or "intended_config" not in body:
        raise RenderFailed(
            "Golden Config answered without an intended_config for {0}".format(device_name),
            device=device_name,
            intent_source="regenerate",
        )
    return require_content(body.get("intended_config"), device_name, "regenerate")


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_timestamp(value):
    """Nautobot timestamps (``...Z``, ``+00:00``, a space instead of ``T``) -> aware datetime or None."""
    if not value:
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(r"\1", text, count=1)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def parse_stored(status_code, body, device_name, now=None):
    """Parse the stored Golden Config record list; return ``(config, age_seconds, last_success)``."""
    if status_code >= 300:
        raise NautobotError(
            "Reading the stored intended configuration of {0} failed with HTTP {1}: {2}".format(
                device_name, status_code, _detail(body)
            ),
            device=device_name,
            status_code=status_code,
        )
    results = body.get("results") if isinstance(body, dict) else body
    if not results:
        raise IntentUnavailable(
            "Golden Config has no stored intended configuration for {0}; run its 'Generate Intended "
            "Configurations' job or use intent_source=regenerate".format(device_name),
            device=device_name,
            intent_source="stored",
        )
    record = results[0]
    config = require_content(record.get("intended_config"), device_name, "stored")
    last_success = record.get("intended_last_success_date")
    age = None
    parsed = parse_timestamp(last_success)
    if parsed is not None:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        age = max(0, int((now - parsed).total_seconds()))
    return config, age, last_success


def _render(client, device_id, sleep, attempts=RENDER_ATTEMPTS):
    """GET the on-demand render, retrying the transient template-repository sync race."""
    attempt = 1
    status, body = client.get_json(GENERATE_PATH, {"device_id": device_id})
    while status == 400 and _detail(body) == GIT_SYNC_RACE and attempt < attempts:
        sleep(min(2.0, 0.2 * attempt) + random.uniform(0, 0.3))  # noqa: S311 - jitter, not cryptography
        attempt += 1
        status, body = client.get_json(GENERATE_PATH, {"device_id": device_id})
    return status, body


def fetch_intent(client, device_id, device_name, source="regenerate", clock=time.monotonic, sleep=time.sleep):
    """Fetch the intent through a :class:`NautobotClient`-like ``client.get_json(path, params)``."""
    if source not in SOURCES:
        raise ValueError("intent_source must be one of %s" % ", ".join(SOURCES))
    if source == "regenerate":
        started = clock()
        status, body = _render(client, device_id, sleep)
        if status == 400 and _detail(body) == NO_SETTINGS and hasattr(client, "run_job"):
            # A device created after Golden Config last refreshed its settings' dynamic-group cache is
            # not found by the on-demand render. Golden Config's own intended-config job refreshes that
            # cache first (and stores this device's intent): run it for this device, then render again.
            client.run_job(INTENDED_JOB, {"device": [device_id]})
            status, body = _render(client, device_id, sleep)
        config = parse_generated(status, body, device_name)
        return Intent(config, source, render_seconds=round(clock() - started, 3))
    status, body = client.get_json(STORED_PATH, {"device": device_id})
    config, age, last_success = parse_stored(status, body, device_name)
    return Intent(config, source, age_seconds=age, last_success=last_success)


def read_stored_records(client, device_ids, chunk=100):
    """Golden Config's stored records of many devices, ``{device_id: record}``, ``chunk`` per request."""
    records = {}
    device_ids = [str(d) for d in device_ids]
    for start in range(0, len(device_ids), chunk):
        part = device_ids[start : start + chunk]
        status, body = client.get_json(STORED_PATH, {"device": part, "limit": len(part)})
        if status >= 300:
            raise NautobotError(
                "Reading the stored intended configurations failed with HTTP {0}: {1}".format(status, _detail(body)),
                status_code=status,
            )
        for record in (body or {}).get("results") or []:
            device = record.get("device")
            records[str(device.get("id") if isinstance(device, dict) else device)] = record
    return records


def job_record_intent(record, job_started, device_name, job_id=None):
    """The intent one job run stored for a device, or the ``RenderFailed`` saying why there is none.

    Golden Config's job marks every device it tried with the same ``intended_last_attempt_date`` and
    sets ``intended_last_success_date`` to it only on success; a failed device keeps an older success.
    """
    where = " (job result {0})".format(job_id) if job_id else ""
    if not record:
        raise RenderFailed(
            "Golden Config's '{0}' job stored no intended configuration for {1}{2}: is the device in the "
            "scope of a Golden Config setting?".format(INTENDED_JOB, device_name, where),
            device=device_name,
            intent_source="job",
        )
    attempt = parse_timestamp(record.get("intended_last_attempt_date"))
    success = parse_timestamp(record.get("intended_last_success_date"))
    if attempt is None or (job_started is not None and attempt < job_started):
        raise RenderFailed(
            "Golden Config's '{0}' job did not render {1}{2}: is the device in the scope of a Golden Config "
            "setting?".format(INTENDED_JOB, device_name, where),
            device=device_name,
            intent_source="job",
        )
    if success is None or success < attempt:
        raise RenderFailed(
            "Golden Config failed to render the intended configuration of {0}{1}; the job's log says why".format(
                device_name, where
            ),
            device=device_name,
            intent_source="job",
        )
    config = require_content(record.get("intended_config"), device_name, "job")
    return Intent(config, "job", age_seconds=0, last_success=record.get("intended_last_success_date"))


def render_by_job(client, devices, clock=time.monotonic, retry=True, job_queue=None):
    """Render many devices with one Golden Config job run; ``{device_id: Intent or ProvisionError}``.

    ``devices`` is a list of ``(device_id, name)``. A job that fails as a whole fails every device.
    Devices the run did not render are tried once more in a run of their own (a job can lose a device
    to a transient fault, e.g. a concurrent render's template repository sync); what still fails then
    fails with the job's word for it. ``job_queue``: the Nautobot job queue to run the job on (none: the
    job's default).
    """
    outcomes = _render_by_job_once(client, devices, clock, job_queue)
    failed = [(device_id, name) for device_id, name in devices if isinstance(outcomes.get(device_id), RenderFailed)]
    if retry and failed:
        outcomes.update(_render_by_job_once(client, failed, clock, job_queue))
    return outcomes


def _render_by_job_once(client, devices, clock, job_queue=None):
    outcomes = {}
    if not devices:
        return outcomes
    started = clock()
    result = client.run_job(
        INTENDED_JOB,
        {"device": [device_id for device_id, _name in devices], "commit_message": "sotsync.nautobot render"},
        timeout=120 + len(devices),
        job_queue=job_queue or None,
    )
    state = ((result or {}).get("status") or {}).get("value")
    job_id = (result or {}).get("id")
    job_started = parse_timestamp((result or {}).get("date_created"))
    # Judge each device by its stored record even when the job as a whole failed: Golden Config stores
    # each device's result as it goes, and a job can end FAILURE for one device's sake.
    records = read_stored_records(client, [device_id for device_id, _name in devices])
    seconds = round(clock() - started, 3)
    for device_id, name in devices:
        try:
            intent = job_record_intent(records.get(str(device_id)), job_started, name, job_id)
            intent.render_seconds = seconds
            outcomes[device_id] = intent
        except ProvisionError as refusal:
            error = refusal
            if state != "SUCCESS":
                error = RenderFailed(
                    "Golden Config's '{0}' job ended {1} (job result {2}); {3} was not rendered".format(
                        INTENDED_JOB, state, job_id, name
                    ),
                    device=name,
                    intent_source="job",
                )
            outcomes[device_id] = error
    return outcomes
