"""The lab's seed data and Golden Config set-up, through Nautobot's REST API with pynautobot.

Idempotent: each object is looked up first and only created or patched back when it differs, so
running it on a lab that is up changes nothing (and fires no webhook). Seeded devices carry a stable
serial number (``SOTSYNC-<NAME>``), so a device renamed by a test is still found and put back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pynautobot
import requests

SITE_A, SITE_B = "Lab Site A", "Lab Site B"
ACCESS, DIST = "Access Switch", "Distribution Switch"
PLATFORM_EOS, PLATFORM_NODRIVER = "Arista EOS", "Generic (no NAPALM driver)"
PLATFORM_NXOS, PLATFORM_JUNOS, PLATFORM_IOS = "Cisco NX-OS", "Juniper Junos", "Cisco IOS"
PREFIX = "127.0.1.0/24"  # simulated devices: one loopback address each, served by lab/simulator
SIM_PORT = 9080  # every simulated device answers on its own address at this port (eAPI, NX-API, NETCONF)

# platform: (manufacturer, device type, Nautobot network_driver, management interface)
PLATFORMS: dict[str, tuple[str | None, str | None, str, str]] = {
    PLATFORM_EOS: ("Arista", "vEOS-lab", "arista_eos", "Management1"),
    PLATFORM_NXOS: ("Cisco", "N9K-C9300v", "cisco_nxos", "mgmt0"),
    PLATFORM_JUNOS: ("Juniper", "vSRX", "juniper_junos", "fxp0"),
    PLATFORM_IOS: ("Cisco", "C9300-24T", "cisco_ios", "GigabitEthernet0/0"),
    PLATFORM_NODRIVER: (None, None, "", "Management1"),
}

# name: (role, location, platform, status, primary IPv4 or None)
DEVICES: dict[str, tuple[str, str, str | None, str, str | None]] = {
    "access1": (ACCESS, SITE_A, PLATFORM_EOS, "Active", "127.0.1.11/24"),
    "access2": (ACCESS, SITE_A, PLATFORM_EOS, "Active", "127.0.1.12/24"),
    "dist1": (DIST, SITE_A, PLATFORM_EOS, "Active", "127.0.1.21/24"),
    # the mixed fleet: one device of each other platform, each served by its own simulator
    "nxos1": (ACCESS, SITE_B, PLATFORM_NXOS, "Active", "127.0.1.51/24"),
    "junos1": (ACCESS, SITE_B, PLATFORM_JUNOS, "Active", "127.0.1.41/24"),
    "ios1": (ACCESS, SITE_B, PLATFORM_IOS, "Active", "127.0.1.61/24"),
    # deliberately not ready for provisioning, one reason each
    "unready-no-platform": (ACCESS, SITE_A, None, "Active", "127.0.1.31/24"),
    "unready-no-driver": (ACCESS, SITE_A, PLATFORM_NODRIVER, "Active", "127.0.1.32/24"),
    "unready-no-ip": (ACCESS, SITE_A, PLATFORM_EOS, "Active", None),
    "unready-offline": (ACCESS, SITE_A, PLATFORM_EOS, "Offline", "127.0.1.34/24"),
}
READY_DEVICES = ("access1", "access2", "dist1", "nxos1", "junos1", "ios1")


def network_driver(name: str) -> str:
    """The Nautobot network driver of a seeded device's platform ("" when it has none)."""
    platform = DEVICES[name][2]
    return PLATFORMS[platform][2] if platform else ""


def management_interface(name: str) -> str:
    platform = DEVICES[name][2]
    return PLATFORMS[platform or PLATFORM_NODRIVER][3]


GRAPHQL_QUERY = """query ($device_id: ID!) {
  device(id: $device_id) {
    hostname: name
    config_context
    primary_ip4 { address dns_name }
    role { name }
    location { name }
    platform { name network_driver }
    status { name }
  }
}"""

Log = Callable[[str], None]


def connect(url: str, token: str) -> pynautobot.api:
    api = pynautobot.api(url, token=token)
    # pynautobot adds the token per request; the raw calls below (jobs, sync, render) need it too.
    api.http_session.headers.update({"Accept": "application/json", "Authorization": f"Token {token}"})
    return api


def _ensure(endpoint, lookup: dict, create: dict | None = None, update: dict | None = None):
    """Get the object matching ``lookup``; create it (lookup + create + update) or patch ``update``."""
    obj = endpoint.get(**lookup)
    if obj is None:
        return endpoint.create(**lookup, **(create or {}), **(update or {}))
    if update:
        current = dict(obj)
        diff = {}
        for key, want in update.items():
            have = current.get(key)
            if isinstance(have, dict):
                have = have.get("id")
            elif isinstance(have, list) and have and isinstance(have[0], dict):
                have = sorted(x.get("id") or x.get("value") for x in have)
                want = sorted(want)
            if have != want:
                diff[key] = want
        if diff:
            obj.update(diff)
    return obj


USERNAME_SECRET = "sotsync lab device username"  # noqa: S105 - a Nautobot object name


def login_group_name(platform: str) -> str:
    return f"sotsync lab {platform} login"


def device_logins(api: pynautobot.api, logins: dict[str, tuple[str, dict]]) -> dict[str, str]:
    """A secrets group per platform, access type Generic (what Golden Config's nornir asks for): the
    username from the environment (``NAPALM_USERNAME``), the password from ``logins[platform]``, a
    Nautobot secrets provider and its parameters (environment variable, text file). Nautobot never holds
    the values: it and the controller read them where they are kept. Returns {platform: group id}."""
    username = _ensure(
        api.extras.secrets,
        {"name": USERNAME_SECRET},
        update={"provider": "environment-variable", "parameters": {"variable": "NAPALM_USERNAME"}},
    )
    groups = {}
    for platform, (provider, parameters) in logins.items():
        secret = _ensure(
            api.extras.secrets,
            {"name": f"sotsync lab {platform} password"},
            update={"provider": provider, "parameters": parameters},
        )
        group = _ensure(api.extras.secrets_groups, {"name": login_group_name(platform)})
        for kind, member in (("username", username), ("password", secret)):
            found = api.extras.secrets_groups_associations.get(
                secrets_group=group.id, access_type="Generic", secret_type=kind
            )
            if found is None:
                api.extras.secrets_groups_associations.create(
                    secrets_group=group.id, secret=member.id, access_type="Generic", secret_type=kind
                )
            elif str(found.secret.id) != str(member.id):
                found.update({"secret": member.id})
        groups[platform] = group.id
    return groups


def seed(api: pynautobot.api, log: Log = print, logins: dict[str, tuple[str, dict]] | None = None) -> dict[str, str]:
    """Create or restore the lab's world. Returns {device name: simulated device address}.

    ``logins``: each platform's password provider (``device_logins``); every device of that platform gets
    its secrets group."""
    started = time.monotonic()
    groups = device_logins(api, logins) if logins else {}
    status = {s.name: s.id for s in api.extras.statuses.all()}
    site_type = _ensure(
        api.dcim.location_types, {"name": "Site"}, update={"content_types": ["dcim.device", "ipam.prefix"]}
    )
    sites = {
        name: _ensure(api.dcim.locations, {"name": name}, {"location_type": site_type.id, "status": status["Active"]})
        for name in (SITE_A, SITE_B)
    }
    makers = {m: _ensure(api.dcim.manufacturers, {"name": m}) for m in {p[0] for p in PLATFORMS.values() if p[0]}}
    dtypes = {
        platform: _ensure(api.dcim.device_types, {"model": model}, {"manufacturer": makers[maker].id})
        for platform, (maker, model, _driver, _mgmt) in PLATFORMS.items()
        if model
    }
    roles = {
        name: _ensure(api.extras.roles, {"name": name}, {"content_types": ["dcim.device"]}) for name in (ACCESS, DIST)
    }
    platforms = {
        name: _ensure(
            api.dcim.platforms,
            {"name": name},
            {"manufacturer": makers[maker].id} if maker else {},
            {"network_driver": driver},
        )
        for name, (maker, _model, driver, _mgmt) in PLATFORMS.items()
    }
    namespace = api.ipam.namespaces.get(name="Global")
    _ensure(api.ipam.prefixes, {"prefix": PREFIX, "namespace": namespace.id}, {"status": status["Active"]})
    # Connection options and site facts live in config contexts, the source of truth for them.
    _ensure(
        api.extras.config_contexts,
        {"name": "sotsync lab: NAPALM connection"},
        # tcp_port: where Golden Config's backup job checks the device answers (nornir-nautobot; 22 by default)
        update={
            "weight": 1000,
            "data": {"napalm": {"optional_args": {"transport": "http", "port": SIM_PORT}}, "tcp_port": SIM_PORT},
        },
    )
    # NAPALM's ios driver speaks SSH (netmiko); "http" is no transport it knows (eAPI's, above)
    _ensure(
        api.extras.config_contexts,
        {"name": "sotsync lab: NAPALM connection (Cisco IOS)"},
        update={
            "weight": 1100,
            "platforms": [platforms[PLATFORM_IOS].id],
            "data": {"napalm": {"optional_args": {"transport": "ssh"}}},
        },
    )
    for site in (SITE_A, SITE_B):
        domain = site.lower().removeprefix("lab ").replace(" ", "-") + ".lab.sotsync.test"  # site-a.lab...
        _ensure(
            api.extras.config_contexts,
            {"name": f"sotsync lab: {site}"},
            update={
                "weight": 1000,
                "locations": [sites[site].id],
                "data": {"domain_name": domain, "ntp_servers": [f"ntp1.{domain}"]},
            },
        )

    addresses: dict[str, str] = {}
    for name, (role, site, platform, stat, ip) in DEVICES.items():
        serial = f"SOTSYNC-{name.upper()}"
        dev = api.dcim.devices.get(serial=serial)
        fields = {
            "name": name,
            "role": roles[role].id,
            "location": sites[site].id,
            # a device without a simulated platform stays an EOS box in Nautobot's eyes (as before)
            "device_type": dtypes.get(platform, dtypes[PLATFORM_EOS]).id,
            "platform": platforms[platform].id if platform else None,
            "status": status[stat],
            "comments": "",
            "serial": serial,
            "secrets_group": groups.get(platform),
        }
        if dev is None:
            dev = api.dcim.devices.create(**fields)
            log(f"created device {name}")
        else:
            _ensure(api.dcim.devices, {"id": dev.id}, update=fields)
        iface = _ensure(
            api.dcim.interfaces,
            {"device_id": dev.id, "name": management_interface(name)},
            {"device": dev.id, "type": "virtual", "status": status["Active"]},
        )
        ip_id = None
        if ip:
            ip_obj = _ensure(
                api.ipam.ip_addresses,
                {"address": ip, "namespace": namespace.id},
                {"status": status["Active"]},
                {"dns_name": ""},
            )
            ip_id = ip_obj.id
            if not api.ipam.ip_address_to_interface.get(ip_address=ip_obj.id, interface=iface.id):
                api.ipam.ip_address_to_interface.create(ip_address=ip_obj.id, interface=iface.id)
            addresses[name] = ip.split("/")[0]
        _ensure(api.dcim.devices, {"id": dev.id}, update={"primary_ip4": ip_id})
    log(f"seed data in place ({len(DEVICES)} devices) in {time.monotonic() - started:.1f} s")
    return addresses


# ---------------------------------------------------------------------------------------------
# Golden Config: repositories, the GraphQL query, settings, jobs
# ---------------------------------------------------------------------------------------------
def _start_and_wait(api: pynautobot.api, start_path: str, body: dict, what: str, timeout: float) -> str:
    """POST to a Nautobot endpoint that queues a job, wait for the job's result; return its status."""
    session, base = api.http_session, api.base_url
    r = session.post(f"{base}/{start_path}", json=body, timeout=30)
    r.raise_for_status()
    result_id = r.json()["job_result"]["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = session.get(f"{base}/extras/job-results/{result_id}/", timeout=30).json()["status"]["value"]
        if status in ("SUCCESS", "FAILURE", "REVOKED"):
            return status
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not finish within {timeout} s")


def _run_job(api: pynautobot.api, job, data: dict | None = None, timeout: float = 120) -> str:
    """Run a Nautobot job through the REST API and wait for its result."""
    return _start_and_wait(api, f"extras/jobs/{job.id}/run/", {"data": data or {}}, f"job {job.name}", timeout)


def _sync_repo(api: pynautobot.api, repo, timeout: float = 120) -> None:
    status = _start_and_wait(api, f"extras/git-repositories/{repo.id}/sync/", {}, f"Git sync of {repo.name}", timeout)
    if status != "SUCCESS":
        raise RuntimeError(f"Git sync of {repo.name} ended {status}")


def _ensure_repo(api: pynautobot.api, name: str, url: str, provides: str, log: Log):
    """A GitRepository providing ``provides``, registered and synced once."""
    repo = api.extras.git_repositories.get(name=name)
    if repo is None:
        repo = api.extras.git_repositories.create(
            name=name, remote_url=url, branch="main", provided_contents=[provides]
        )
        _sync_repo(api, repo)
        log(f"{name}: repository registered and synced")
    return repo


RENDER_JOB = "Generate Intended Configurations"
ALL_JOBS = "Execute All Golden Configuration Jobs - Multiple Device"  # intended, backup, compliance
BACKUP_JOB = "Backup Configurations"
COMPLIANCE_JOB = "Perform Configuration Compliance"


def ensure_render_queue(api: pynautobot.api, name: str, log: Log = print) -> None:
    """A Celery job queue ``name`` allowed on Golden Config's intended, all-jobs, backup and compliance jobs."""
    session, base = api.http_session, api.base_url
    found = session.get(f"{base}/extras/job-queues/", params={"name": name}, timeout=30).json()["results"]
    if found:
        queue_id = found[0]["id"]
    else:
        r = session.post(f"{base}/extras/job-queues/", json={"name": name, "queue_type": "celery"}, timeout=30)
        r.raise_for_status()
        queue_id = r.json()["id"]
        log(f"job queue {name} created")
    # These jobs sync the template, intended and backup repositories: they share the one-process queue.
    for job_name in (RENDER_JOB, ALL_JOBS, BACKUP_JOB, COMPLIANCE_JOB):
        job = api.extras.jobs.get(name=job_name)
        body = session.get(f"{base}/extras/jobs/{job.id}/", timeout=30).json()
        if name not in (body.get("task_queues") or []):  # the job's allowed queues, by name
            # the job's queues are a many-to-many through JobQueueAssignment: the job's own serializer
            # does not write them; the override keeps Nautobot from resetting them to the job class's
            r = session.post(
                f"{base}/extras/job-queue-assignments/", json={"job": job.id, "job_queue": queue_id}, timeout=30
            )
            r.raise_for_status()
            r = session.patch(f"{base}/extras/jobs/{job.id}/", json={"job_queues_override": True}, timeout=30)
            r.raise_for_status()
            log(f"Golden Config's job {job_name!r} may run on the {name} queue")


# Golden Config's compliance features per platform: {platform: {feature: the sections it covers}}
# (what each platform's template sets).
COMPLIANCE_RULES = {
    PLATFORM_EOS: {
        "system": ["hostname", "ip domain-name", "ntp server", "ip routing"],
        "interfaces": ["interface"],
        "vlans": ["vlan"],
        "routing": ["router ospf"],
    },
    # NX-OS shows every port (Ethernet1/3... with nothing set) and a "vlan 1,10" summary line that no
    # template writes: the rules name what the template sets ("vlan 10" is no prefix of "vlan 1,10")
    PLATFORM_NXOS: {
        "system": ["hostname", "ip domain-name", "ntp server", "feature"],
        "interfaces": ["interface mgmt0", "interface Ethernet1/1", "interface Ethernet1/2"],
        "vlans": ["vlan 10", "vlan 20"],
    },
    PLATFORM_JUNOS: {
        "system": ["system"],
        "interfaces": ["interfaces"],
        "vlans": ["vlans"],
    },
    # IOS shows every port of the switch (GigabitEthernet1/0/1... with nothing set): the rules name the
    # interfaces the template sets, none a prefix of another port's name (Golden Config matches the section's
    # first line by its beginning: "interface GigabitEthernet1/0/1" would take 1/0/10-1/0/19 too)
    PLATFORM_IOS: {
        "system": ["hostname", "ip domain name", "ntp server", "archive", "ip scp server enable"],
        "interfaces": [
            "interface GigabitEthernet0/0",
            "interface GigabitEthernet1/0/9",
            "interface TenGigabitEthernet1/1/1",
        ],
        "vlans": ["vlan 10", "vlan 20"],
    },
}


# Golden Config "config replace" rules, applied to each backup before compliance compares it with the
# intent: what the device shows that is no configuration (Junos marks secrets "## SECRET-DATA"), and the
# Junos template's load directive "replace:" (its management address replaces the old one instead of
# being merged beside it), which the device never shows: the backup is given it back to compare like
# with like; the address under it is still compared.
CONFIG_REPLACES = {
    PLATFORM_JUNOS: {
        "junos secret-data mark": (r"; ## SECRET-DATA$", ";"),
        "junos management replace tag": (
            r"^(    fxp0 \{\n(?:        .*\n)*?        unit 0 \{\n            )family inet \{",
            r"\1replace: family inet {",
        ),
    },
}


# Golden Config remediation settings (hier_config makes the commands that bring a feature to its intent: the
# "no ..." of each extra line) for the CLI platforms. Junos has none (its configuration is in braces, its
# changes in set form), so a remediation plan is not filed for it and the run says why (a lab case of its own).
REMEDIATION_PLATFORMS = (PLATFORM_EOS, PLATFORM_NXOS, PLATFORM_IOS)


def compliance_rules(api: pynautobot.api, log: Log = print) -> None:
    """Golden Config compliance features and CLI rules for each lab platform (what its template sets),
    its config replace rules for the backups, and its remediation settings (``REMEDIATION_PLATFORMS``, whose
    rules have config remediation on)."""
    gc = api.plugins.golden_config
    for platform_name, replaces in CONFIG_REPLACES.items():
        platform = api.dcim.platforms.get(name=platform_name)
        for name, (regex, replace) in replaces.items():
            _ensure(gc.config_replace, {"name": name}, {"platform": platform.id}, {"regex": regex, "replace": replace})
    for platform_name in REMEDIATION_PLATFORMS:
        platform = api.dcim.platforms.get(name=platform_name)
        # (its "platform" filter takes the platform's name)
        if gc.remediation_setting.get(platform_id=platform.id) is None:
            gc.remediation_setting.create(platform=platform.id, remediation_type="hierconfig")
            log(f"remediation settings for {platform_name} created (hier_config)")
    for platform_name, rules in COMPLIANCE_RULES.items():
        platform = api.dcim.platforms.get(name=platform_name)
        remediation = platform_name in REMEDIATION_PLATFORMS
        for name, sections in rules.items():
            feature = _ensure(gc.compliance_feature, {"name": name}, {"slug": name})
            rule = gc.compliance_rule.get(feature=feature.id, platform=platform.id)
            match = "\n".join(sections)
            if rule is None:
                gc.compliance_rule.create(
                    feature=feature.id,
                    platform=platform.id,
                    config_type="cli",
                    config_ordered=False,
                    match_config=match,
                    config_remediation=remediation,
                )
                log(f"compliance rule {name} ({platform_name}) created")
            elif rule.match_config != match or bool(rule.config_remediation) != remediation:
                rule.update({"match_config": match, "config_remediation": remediation})


def golden_config(
    api: pynautobot.api,
    git_http: str,
    git_intended: str,
    git_backup: str | None = None,
    render_queue: str | None = None,
    log: Log = print,
) -> None:
    started = time.monotonic()
    templates = _ensure_repo(api, "sotsync lab templates", git_http, "nautobot_golden_config.jinjatemplate", log)
    intended = _ensure_repo(api, "sotsync lab intended", git_intended, "nautobot_golden_config.intendedconfigs", log)
    backup = git_backup and _ensure_repo(
        api, "sotsync lab backup", git_backup, "nautobot_golden_config.backupconfigs", log
    )
    query = _ensure(api.extras.graphql_queries, {"name": "sotsync lab sot_agg"}, update={"query": GRAPHQL_QUERY})
    gcs = api.plugins.golden_config.golden_config_settings
    setting = gcs.get(name="Default Settings") or gcs.all()[0]
    want = {
        "jinja_repository": templates.id,
        "jinja_path_template": "templates/{{obj.platform.network_driver}}.j2",
        "intended_repository": intended.id,
        "intended_path_template": "{{obj.location.name|slugify}}/{{obj.name}}.cfg",
        "sot_agg_query": query.id,
    }
    if backup:
        want.update(backup_repository=backup.id, backup_path_template="{{obj.location.name|slugify}}/{{obj.name}}.cfg")
    _ensure(gcs, {"id": setting.id}, update=want)
    changed = False
    for job in api.extras.jobs.filter(module_name__isw="nautobot_golden_config"):
        if not job.enabled:
            job.update({"enabled": True})
            changed = True
    # The approval gate files config plans with Golden Config's hidden "Generate Config Plans" job
    # (enabled above with every Golden Config job): say so if this Golden Config lacks it.
    if api.extras.jobs.get(name="Generate Config Plans") is None:
        log("WARNING: Golden Config has no 'Generate Config Plans' job: the approval gate cannot file plans")
    refresh = api.extras.jobs.get(name="Refresh Dynamic Group Caches")
    if changed and refresh is not None:
        if not refresh.enabled:
            refresh.update({"enabled": True})
        _run_job(api, refresh)
        log("Golden Config jobs enabled, dynamic group caches refreshed")
    if backup:
        compliance_rules(api, log)
    if render_queue:
        ensure_render_queue(api, render_queue, log)
    log(f"Golden Config set up in {time.monotonic() - started:.1f} s")


def render_intended(api: pynautobot.api, device_id: str) -> str:
    def get():
        return api.http_session.get(
            f"{api.base_url}/plugins/golden-config/generate-intended-config/",
            params={"device_id": device_id},
            timeout=60,
        )

    r = get()
    if r.status_code == 400 and "No Golden Config settings found" in r.text:
        # a device created since the dynamic groups' membership cache was last refreshed
        _run_job(api, api.extras.jobs.get(name="Refresh Dynamic Group Caches"))
        r = get()
    if r.status_code != 200:
        raise RuntimeError(f"render failed ({r.status_code}): {r.text[:300]}")
    return r.json()["intended_config"]


def sync_devices(api: pynautobot.api, sim_controls: dict[str, str], log: Log = print) -> None:
    """Give each ready simulated device its intended configuration: the lab starts in sync.
    ``sim_controls``: network driver -> the control URL of the simulator serving that platform."""
    for name in READY_DEVICES:
        dev = api.dcim.devices.get(serial=f"SOTSYNC-{name.upper()}")
        config = render_intended(api, dev.id)
        control = sim_controls[network_driver(name)]
        r = requests.put(f"{control}/devices/{name}/running-config", data=config.encode(), timeout=10)
        if r.status_code >= 400:
            raise RuntimeError(f"{name}: the simulator refused its intended configuration: {r.text[:500]}")
    log(f"simulated devices {', '.join(READY_DEVICES)} loaded with their intended configuration")
