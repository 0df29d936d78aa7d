"""Per-device NAPALM logins (``credentials``): the order, the secrets group's providers and access types, the
skip reasons, the scrubbing; and the batch, the rollback and the plan deploy with them.

Secrets groups are given as Nautobot's GraphQL returns them with the device (enum names such as ``HTTP_S_``
and ``PASSWORD``); the environment and the files are injected, so nothing here reads the real ones.
"""

from __future__ import annotations

import json
import threading

import pytest
from napalm.base import exceptions as napalm_exc

from ansible_collections.sotsync.nautobot.plugins.module_utils import batch, rollback as rb
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import format_outcome, module_result
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import (
    CredentialResolver,
    Scrubber,
    SecretReader,
    access_type_label,
    access_types_for,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import MissingCredentials

from tests.unit.plugins.module_utils.conftest import FakeBatchNautobot, FakeDriver, batch_device, ready_device

TOKEN = "0123456789abcdef0123456789abcdef01234567"
GLOBAL_PASSWORD = "global-Pw-0001"
INVENTORY_PASSWORD = "inventory-Pw-0002"
GROUP_PASSWORD = "group-Pw-0003"
FILE_PASSWORD = "file-Pw-0004"
EVERY_PASSWORD = (GLOBAL_PASSWORD, INVENTORY_PASSWORD, GROUP_PASSWORD, FILE_PASSWORD, TOKEN)
ENV = {"LAB_EOS_USER": "eos-user", "LAB_EOS_PASSWORD": GROUP_PASSWORD, "EMPTY": ""}


def secret(name, provider, **parameters):
    return {"name": name, "provider": provider, "parameters": parameters}


def association(access_type, secret_type, the_secret):
    return {"access_type": access_type, "secret_type": secret_type, "secret": the_secret}


def env_group(name="eos-logins", access_type="GENERIC", user="LAB_EOS_USER", password="LAB_EOS_PASSWORD"):
    """A secrets group with environment-variable secrets, as GraphQL gives it."""
    return {
        "name": name,
        "secrets_group_associations": [
            association(access_type, "USERNAME", secret("eos-user", "environment-variable", variable=user)),
            association(access_type, "PASSWORD", secret("eos-password", "environment-variable", variable=password)),
        ],
    }


class Files:
    """``read_text`` double: ``files`` maps paths to contents; counts the reads."""

    def __init__(self, files=None):
        self.files = dict(files or {})
        self.reads = []

    def __call__(self, path):
        self.reads.append(path)
        if path not in self.files:
            raise OSError(2, "not found", path)
        return self.files[path]


def resolver(inventory=None, username="netops", password=GLOBAL_PASSWORD, environ=None, files=None):
    reader = SecretReader(environ=ENV if environ is None else environ, read_text=files or Files())
    return CredentialResolver(inventory, username, password, reader=reader)


def device(**overrides):
    return ready_device(**overrides)


# --- the order -----------------------------------------------------------------------------------------
INVENTORY = {"access1": {"username": "inv-user", "password": INVENTORY_PASSWORD}}


@pytest.mark.parametrize(
    ("inventory", "group", "global_login", "source", "username"),
    [
        (INVENTORY, env_group(), True, "inventory", "inv-user"),
        (None, env_group(), True, "secrets_group", "eos-user"),
        (None, None, True, "global", "netops"),
        ({"access1": {"username": "inv-user"}}, env_group(), True, "secrets_group", "eos-user"),
        ({"other": INVENTORY["access1"]}, None, True, "global", "netops"),
        (None, None, False, None, None),
    ],
    ids=["inventory-first", "group-before-global", "global-last", "partial-inventory", "other-host", "none"],
)
def test_the_first_source_that_gives_a_whole_login_wins(inventory, group, global_login, source, username):
    found = resolver(inventory, *(("netops", GLOBAL_PASSWORD) if global_login else (None, None))).resolve(
        device(secrets_group=group), "eos"
    )
    if source is None:
        assert found.login is None and [line.split(":")[0] for line in found.tried] == [
            "inventory",
            "secrets group",
            "global",
        ]
    else:
        assert (found.login.source, found.login.username) == (source, username)


def test_the_inventory_is_also_found_by_the_devices_uuid():
    the_device = device()
    found = resolver({the_device["id"]: INVENTORY["access1"]}).resolve(the_device, "eos")
    assert found.login.source == "inventory" and found.login.password == INVENTORY_PASSWORD


def test_a_login_says_where_it_came_from_and_never_shows_its_values():
    found = resolver().resolve(device(secrets_group=env_group()), "eos")
    assert found.login.detail == "secrets group 'eos-logins' (access type Generic, environment-variable)"
    assert GROUP_PASSWORD not in repr(found.login)


# --- the providers ----------------------------------------------------------------------------------------
def test_text_file_secrets_are_read_stripped_as_nautobot_reads_them():
    group = {
        "name": "files",
        "secrets_group_associations": [
            association("GENERIC", "USERNAME", secret("u", "text-file", path="/etc/napalm/user")),
            association("GENERIC", "PASSWORD", secret("p", "text-file", path="/etc/napalm/password")),
        ],
    }
    files = Files({"/etc/napalm/user": "file-user\n", "/etc/napalm/password": f"  {FILE_PASSWORD}\n\n"})
    found = resolver(None, None, None, files=files).resolve(device(secrets_group=group), "eos")
    assert (found.login.username, found.login.password) == ("file-user", FILE_PASSWORD)
    assert found.login.detail == "secrets group 'files' (access type Generic, text-file)"


@pytest.mark.parametrize(
    ("group", "environ", "files", "why"),
    [
        (
            env_group(password="NOT_SET"),
            ENV,
            {},
            "the password secret 'eos-password': environment variable NOT_SET is not set on the controller",
        ),
        (
            env_group(password="EMPTY"),
            ENV,
            {},
            "the password secret 'eos-password': environment variable EMPTY is empty on the controller",
        ),
        (
            {
                "name": "eos-logins",
                "secrets_group_associations": [
                    association("GENERIC", "USERNAME", secret("u", "environment-variable", variable="LAB_EOS_USER")),
                    association("GENERIC", "PASSWORD", secret("p", "text-file", path="/nowhere/password")),
                ],
            },
            ENV,
            {},
            "the password secret 'p': file /nowhere/password cannot be read on the controller (not found)",
        ),
        (
            {
                "name": "eos-logins",
                "secrets_group_associations": [
                    association("GENERIC", "USERNAME", secret("u", "environment-variable", variable="LAB_EOS_USER")),
                    association("GENERIC", "PASSWORD", secret("vault-pw", "hashicorp-vault", path="net", key="pw")),
                ],
            },
            ENV,
            {},
            "the password secret 'vault-pw': provider 'hashicorp-vault' cannot be read by the controller (it reads "
            "environment-variable and text-file)",
        ),
        (
            {
                "name": "eos-logins",
                "secrets_group_associations": [
                    association("GENERIC", "USERNAME", secret("u", "environment-variable")),
                    association(
                        "GENERIC", "PASSWORD", secret("p", "environment-variable", variable="LAB_EOS_PASSWORD")
                    ),
                ],
            },
            ENV,
            {},
            "the username secret 'u': its provider environment-variable needs the parameter 'variable'",
        ),
    ],
    ids=["unset-variable", "empty-variable", "missing-file", "unknown-provider", "no-variable-parameter"],
)
def test_a_secret_the_controller_cannot_read_makes_the_group_unusable_with_the_reason(group, environ, files, why):
    found = resolver(None, None, None, environ=environ, files=Files(files)).resolve(device(secrets_group=group), "eos")
    assert found.login is None
    assert found.tried[1] == "secrets group: secrets group 'eos-logins': " + why


def test_a_templated_parameter_is_rendered_with_the_device_as_obj():
    group = env_group(user="{{ obj.platform.network_driver | upper }}_USER", password="LAB_EOS_PASSWORD")
    environ = dict(ENV, ARISTA_EOS_USER="templated-user")
    found = resolver(environ=environ).resolve(device(secrets_group=group), "eos")
    assert found.login.username == "templated-user"


def test_a_template_the_controller_cannot_render_is_a_reason():
    group = env_group(user="{{ obj.tenant.name }}_USER")
    found = resolver(None, None, None).resolve(device(secrets_group=group), "eos")
    assert found.login is None
    assert (
        "the username secret 'eos-user': its parameter '{{ obj.tenant.name }}_USER' cannot be rendered"
        in (found.tried[1])
    )


def test_each_secret_is_read_once_per_run():
    group = {
        "name": "files",
        "secrets_group_associations": [
            association("GENERIC", "USERNAME", secret("u", "text-file", path="/u")),
            association("GENERIC", "PASSWORD", secret("p", "text-file", path="/p")),
        ],
    }
    files = Files({"/u": "user", "/p": FILE_PASSWORD})
    shared = resolver(files=files)
    for index in range(5):
        assert shared.resolve(batch_device(index, secrets_group=group), "eos").login.password == FILE_PASSWORD
    assert sorted(files.reads) == ["/p", "/u"]


# --- the access type ----------------------------------------------------------------------------------------
def two_kinds(first, second):
    """A group with a login under two access types: ``first`` -> first-*, ``second`` -> second-*."""
    environ = {}
    associations = []
    for kind, tag in ((first, "first"), (second, "second")):
        environ.update({f"{tag.upper()}_U": f"{tag}-user", f"{tag.upper()}_P": f"{tag}-password"})
        associations += [
            association(kind, "USERNAME", secret(f"{tag}-u", "environment-variable", variable=f"{tag.upper()}_U")),
            association(kind, "PASSWORD", secret(f"{tag}-p", "environment-variable", variable=f"{tag.upper()}_P")),
        ]
    return {"name": "mixed", "secrets_group_associations": associations}, environ


@pytest.mark.parametrize(
    ("driver", "kinds", "context", "user"),
    [
        ("junos", ("GENERIC", "NETCONF"), {}, "second-user"),
        ("eos", ("HTTP_S_", "GENERIC"), {}, "first-user"),
        ("nxos", ("GENERIC", "HTTP(S)"), {}, "second-user"),  # REST's value spelling works too
        ("eos", ("NETCONF", "GENERIC"), {}, "second-user"),  # another platform's type is not EOS's
        ("junos", ("SSH", "NETCONF"), {"nautobot_plugin_nornir": {"secret_access_type": "SSH"}}, "first-user"),
    ],
    ids=["junos-netconf", "eos-https", "nxos-https-rest-spelling", "eos-ignores-netconf", "nornir-context-first"],
)
def test_the_platforms_access_type_before_generic(driver, kinds, context, user):
    group, environ = two_kinds(*kinds)
    found = resolver(None, None, None, environ=environ).resolve(
        device(secrets_group=group, config_context=context), driver
    )
    assert found.login.username == user


def test_username_and_password_come_from_one_access_type():
    group = {
        "name": "split",
        "secrets_group_associations": [
            association("NETCONF", "USERNAME", secret("u", "environment-variable", variable="LAB_EOS_USER")),
            association("GENERIC", "PASSWORD", secret("p", "environment-variable", variable="LAB_EOS_PASSWORD")),
        ],
    }
    found = resolver(None, None, None).resolve(device(secrets_group=group), "junos")
    assert found.login is None
    assert found.tried[1] == (
        "secrets group: secrets group 'split' has no username and password secrets of access type NETCONF or Generic"
    )


def test_access_types_and_their_labels():
    assert access_types_for(device(), "eos") == ["HTTPS", "GENERIC"]
    assert access_types_for(device(), "eos", {"transport": "ssh"}) == ["SSH", "GENERIC"]
    assert access_types_for(device(), "junos") == ["NETCONF", "GENERIC"]
    assert access_types_for(device(), "unknown") == ["GENERIC"]
    assert [access_type_label(k) for k in ("HTTP_S_", "HTTP(S)", "GENERIC", "NETCONF")] == [
        "HTTP(S)",
        "HTTP(S)",
        "Generic",
        "NETCONF",
    ]


# --- the reasons -------------------------------------------------------------------------------------------
def test_the_skip_reason_names_every_source_tried():
    group = {
        "name": "vaulted",
        "secrets_group_associations": [
            association("NETCONF", "USERNAME", secret("u", "hashicorp-vault", path="net", key="user")),
            association("NETCONF", "PASSWORD", secret("p", "hashicorp-vault", path="net", key="pw")),
        ],
    }
    found = resolver(None, None, None).resolve(device(name="junos1", secrets_group=group), "junos")
    assert found.message == (
        "No NAPALM login for junos1, not connected. Tried inventory: no inventory host junos1 with napalm_username / "
        "napalm_password or ansible_user / ansible_password; secrets group: secrets group 'vaulted': the username "
        "secret 'u': provider 'hashicorp-vault' cannot be read by the controller (it reads environment-variable and "
        "text-file); global: no NAPALM_USERNAME / NAPALM_PASSWORD (nor the username and password options)"
    )


@pytest.mark.parametrize(
    ("group", "why"),
    [
        (None, "no secrets group (or the Nautobot token cannot view it)"),
        (
            {"name": "hidden", "secrets_group_associations": []},
            "secrets group 'hidden' has no username and password secrets of access type HTTP(S) or Generic (it shows "
            "none: the token may lack extras.view_secretsgroupassociation)",
        ),
        (
            {
                "name": "hidden",
                "secrets_group_associations": [
                    association("GENERIC", "USERNAME", None),
                    association("GENERIC", "PASSWORD", None),
                ],
            },
            "secrets group 'hidden': its username secret is hidden (the token may lack extras.view_secret)",
        ),
    ],
)
def test_a_group_the_token_cannot_see(group, why):
    found = resolver(None, "netops", None).resolve(device(secrets_group=group), "eos")
    assert found.tried[1] == "secrets group: " + why
    assert found.tried[2] == (
        "global: only a username, no password (the username and password options, NAPALM_USERNAME / NAPALM_PASSWORD)"
    )


# --- what never shows -------------------------------------------------------------------------------------
def test_the_scrubber_masks_passwords_everywhere_and_usernames_in_messages_only():
    scrub = Scrubber([GROUP_PASSWORD, TOKEN], ["netops"])
    result = scrub.result(
        {
            "msg": f"login netops/{GROUP_PASSWORD} refused; netops-2 is someone else",
            "warnings": ["user netops"],
            "config_diff": f"+username netops secret {GROUP_PASSWORD}",
            "trigger": "by netops",
            "nested": [{"token": TOKEN}],
        }
    )
    assert result == {
        "msg": "login ********/******** refused; netops-2 is someone else",
        "warnings": ["user ********"],
        "config_diff": "+username netops secret ********",
        "trigger": "by netops",
        "nested": [{"token": "********"}],
    }


# --- the batch ------------------------------------------------------------------------------------------------
class LoginFactory:
    """A ``FakeDriver`` per device that remembers the login it was given; ``per_host`` driver arguments."""

    def __init__(self, per_host=None):
        self.per_host = dict(per_host or {})
        self.logins = {}
        self.lock = threading.Lock()

    def __call__(self, driver_name, host, username, password, timeout, optional_args):
        with self.lock:
            self.logins[host] = (username, password)
        return FakeDriver(**self.per_host.get(host, {}))


def batch_params(**overrides):
    data = {
        "devices": None,
        "device": None,
        "device_filter": None,
        "nautobot_url": "http://nautobot.invalid",
        "nautobot_token": TOKEN,
        "intent_source": "regenerate",
        "dry_run": True,
        "username": None,
        "password": None,
        "device_credentials": None,
        "timeout": 60,
        "ready_statuses": ["Active"],
        "commit_confirm_seconds": 60,
        "verify": True,
        "notes": True,
        "trigger": "manual",
        "workers": 4,
    }
    data.update(overrides)
    return data


@pytest.fixture
def environ(monkeypatch):
    """The batch reads the process's environment: the lab's variables set, nothing else of the test's."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def fleet():
    """dev1: an inventory login; dev2: a secrets group; dev3: a vaulted group (none); dev4: nothing (global)."""
    vaulted = {
        "name": "vaulted",
        "secrets_group_associations": [
            association("GENERIC", "USERNAME", secret("u", "hashicorp-vault", path="x", key="u")),
            association("GENERIC", "PASSWORD", secret("p", "hashicorp-vault", path="x", key="p")),
        ],
    }
    return [
        batch_device(1),
        batch_device(2, secrets_group=env_group()),
        batch_device(3, secrets_group=vaulted),
        batch_device(4),
    ]


def test_a_device_without_a_login_is_skipped_and_the_others_proceed(environ):
    nautobot, factory = FakeBatchNautobot(inventory=fleet()), LoginFactory()
    inventory = {"dev1": {"username": "inv-user", "password": INVENTORY_PASSWORD}}
    lines, shown = [], []
    result = batch.run_batch(
        batch_params(devices=["dev1", "dev2", "dev3"], device_credentials=inventory),
        client=nautobot,
        driver_factory=factory,
        on_result=lambda outcome: shown.extend(format_outcome(outcome)),
        progress=lines.append,
    )
    outcomes = {r["device"]: r for r in result["results"]}
    assert factory.logins == {
        "127.0.2.1": ("inv-user", INVENTORY_PASSWORD),
        "127.0.2.2": ("eos-user", GROUP_PASSWORD),
    }
    assert (outcomes["dev1"]["credentials_source"], outcomes["dev2"]["credentials_source"]) == (
        "inventory",
        "secrets_group",
    )
    assert (
        outcomes["dev2"]["credentials_from"] == "secrets group 'eos-logins' (access type Generic, environment-variable)"
    )
    skipped = outcomes["dev3"]
    assert (skipped["skipped"], skipped["failed"], skipped["changed"]) == (True, False, False)
    assert skipped["msg"].startswith("No NAPALM login for dev3, not connected. Tried inventory: no inventory host dev3")
    assert [line.split(":")[0] for line in skipped["credentials_tried"]] == ["inventory", "secrets group", "global"]
    assert "provider 'hashicorp-vault' cannot be read by the controller" in skipped["credentials_tried"][1]
    assert "dev3: SKIPPED: No NAPALM login for dev3" in "\n".join(shown)
    # never rendered, never connected, no note
    assert batch_device(3)["id"] not in nautobot.renders()
    assert batch_device(3)["id"] not in [device_id for device_id, _k, _c in nautobot.note_entries()]
    summary = result["summary"]
    assert (summary["skipped"], summary["dry_run"], summary["failed"]) == (1, 2, 0)
    assert summary["skipped_devices"] == ["dev3"]
    assert "1 skipped (0 not ready, 1 without a NAPALM login)" in summary["msg"]
    assert "(0 not found, 3 ready, 1 of them without a NAPALM login)" in lines[0]


def test_the_global_login_serves_the_devices_with_no_other(environ):
    nautobot, factory = FakeBatchNautobot(inventory=fleet()), LoginFactory()
    result = batch.run_batch(
        batch_params(devices=["dev2", "dev4"], username="netops", password=GLOBAL_PASSWORD),
        client=nautobot,
        driver_factory=factory,
    )
    assert factory.logins == {"127.0.2.2": ("eos-user", GROUP_PASSWORD), "127.0.2.4": ("netops", GLOBAL_PASSWORD)}
    assert {r["device"]: r["credentials_source"] for r in result["results"]} == {
        "dev2": "secrets_group",
        "dev4": "global",
    }


def test_no_login_value_in_any_result_line_or_note(environ):
    """A device that echoes its login in its errors (a refused line, an authentication failure): every
    password resolved in the run, whatever its source, is masked in results, printed lines and notes."""
    group_file = {
        "name": "files",
        "secrets_group_associations": [
            association("GENERIC", "USERNAME", secret("u", "text-file", path="/u")),
            association("GENERIC", "PASSWORD", secret("p", "environment-variable", variable="LAB_EOS_PASSWORD")),
        ],
    }
    devices = [batch_device(1), batch_device(2, secrets_group=group_file), batch_device(4)]
    echo = napalm_exc.MergeConfigException(
        f"Error [1002]: CLI command 2 of 5 'enable secret {GROUP_PASSWORD} {INVENTORY_PASSWORD} "
        f"{GLOBAL_PASSWORD}' failed"
    )
    auth = napalm_exc.ConnectAuthError(f"Authentication failed for user inv-user with password {INVENTORY_PASSWORD}")
    factory = LoginFactory(
        per_host={"127.0.2.1": {"fail": {"open": auth}}, "127.0.2.2": {"fail": {"load_merge_candidate": echo}}}
    )
    nautobot = FakeBatchNautobot(inventory=devices)
    lines = []
    result = batch.run_batch(
        batch_params(
            devices=["dev1", "dev2", "dev4"],
            device_credentials={"dev1": {"username": "inv-user", "password": INVENTORY_PASSWORD}},
            username="netops",
            password=GLOBAL_PASSWORD,
        ),
        client=nautobot,
        driver_factory=factory,
        on_result=lambda outcome: lines.extend(format_outcome(outcome)),
        progress=lines.append,
    )
    outcomes = {r["device"]: r for r in result["results"]}
    assert outcomes["dev1"]["error"] == "device_authentication"
    assert "(the login came from inventory host dev1)" in outcomes["dev1"]["msg"]
    assert "for user ******** with password ********" in outcomes["dev1"]["msg"]
    assert outcomes["dev2"]["error"] == "config_rejected" and outcomes["dev4"]["failed"] is False
    task_result, _failed = module_result(result)
    notes = "\n".join(comments for _d, _k, comments in nautobot.note_entries())
    for shown in (json.dumps(task_result), "\n".join(lines), notes):
        for value in EVERY_PASSWORD:
            assert value not in shown


# --- the rollback and the plan deploy ---------------------------------------------------------------------
class RollbackNautobot:
    """What ``run_rollback`` reads: the device, its notes (one rollback point)."""

    def __init__(self, the_device, running):
        self.device = the_device
        self.point = {"id": "n1", "created": "2026-11-25T10:00:00Z", "note": rb.point_line("before\n", running)}
        self.calls = []

    def get_devices(self, idents=None, filters=None):
        self.calls.append("get_devices")
        return [self.device], [], {}

    def device_notes(self, device_id):
        self.calls.append("device_notes")
        return [self.point]


def rollback(params_, nautobot, factory):
    return rb.run_rollback(
        dict(batch_params(device="access1", notes=False, update_compliance=False), **params_),
        True,
        nautobot,
        factory,
        lambda _device: {},
    )


def test_a_rollback_connects_with_the_devices_own_login(environ):
    driver = FakeDriver()
    nautobot = RollbackNautobot(ready_device(secrets_group=env_group()), driver.running)
    logins = []

    def factory(name, host, username, password, timeout, optional_args):
        logins.append((username, password))
        return driver

    result = rollback({"username": "netops", "password": GLOBAL_PASSWORD}, nautobot, factory)
    assert logins == [("eos-user", GROUP_PASSWORD)]
    assert result["credentials_source"] == "secrets_group" and result["dry_run"] is True


def test_a_rollback_without_a_login_fails_before_reading_notes_or_connecting():
    nautobot = RollbackNautobot(ready_device(), "running")
    with pytest.raises(MissingCredentials, match="NAPALM credentials missing: username and password") as info:
        rollback({}, nautobot, lambda *args: pytest.fail("connected"))
    assert nautobot.calls == ["get_devices"]
    assert "access1 (inventory: no inventory host access1" in info.value.message


def test_a_plan_for_a_device_without_a_login_is_not_deployed_and_keeps_its_status():
    from tests.unit.plugins.module_utils.plan_fakes import PlanNautobot, approve, deploy_params

    from ansible_collections.sotsync.nautobot.plugins.module_utils.plan_deploy import deploy_plan

    nautobot = PlanNautobot(inventory=[batch_device(1)])
    (outcome,) = batch.run_batch(
        dict(deploy_params(None), devices=["dev1"], plan=True), client=nautobot, driver_factory=LoginFactory()
    )["results"]
    approve(nautobot, outcome["plan_id"])
    nautobot.patches.clear()
    factory = LoginFactory()
    with pytest.raises(MissingCredentials) as info:
        deploy_plan(
            deploy_params(outcome["plan_id"], dry_run=False, username=None, password=None),
            False,
            nautobot,
            factory,
        )
    assert info.value.details["plan_id"] == outcome["plan_id"] and info.value.details["device"] == "dev1"
    assert nautobot.patches == [] and factory.logins == {}


def test_a_plan_is_deployed_with_the_devices_inventory_login():
    from tests.unit.plugins.module_utils.plan_fakes import PlanNautobot, approve, deploy_params

    from ansible_collections.sotsync.nautobot.plugins.module_utils.plan_deploy import deploy_plan

    nautobot = PlanNautobot(inventory=[batch_device(1)])
    (outcome,) = batch.run_batch(
        dict(deploy_params(None), devices=["dev1"], plan=True), client=nautobot, driver_factory=LoginFactory()
    )["results"]
    approve(nautobot, outcome["plan_id"])
    factory = LoginFactory()
    inventory = {"dev1": {"username": "inv-user", "password": INVENTORY_PASSWORD}}
    result = deploy_plan(
        deploy_params(outcome["plan_id"], dry_run=False, device_credentials=inventory), False, nautobot, factory
    )
    assert factory.logins == {"127.0.2.1": ("inv-user", INVENTORY_PASSWORD)}
    assert result["credentials_source"] == "inventory" and result["committed"] is True
