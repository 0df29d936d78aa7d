# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each device's NAPALM login, resolved once per run, in plain Python.

The order, first source that gives both a username and a password wins:

1. ``inventory``: the Ansible inventory variables of the host named like the device
   (``napalm_username`` / ``napalm_password``, else ``ansible_user`` / ``ansible_password``), which the
   role ``sotsync.nautobot.provision`` passes as the option ``device_credentials`` (device name ->
   ``{username, password}``; Ansible Vault values arrive decrypted);
2. ``secrets_group``: the device's Nautobot secrets group, read with the device (GraphQL: the group, its
   associations' access and secret types, each secret's provider and parameters; Nautobot never returns a
   secret's value). The access type is the one the device's config context names for Golden Config's nornir
   (``nautobot_plugin_nornir.secret_access_type``), else the platform's (NETCONF for Junos, HTTP(S) for
   eAPI and NX-API, SSH for the SSH drivers), else ``Generic``; the secret types ``username`` and
   ``password``. A secret is read here the way Nautobot's own providers read it: ``environment-variable``
   (parameter ``variable``) from this process's environment, ``text-file`` (parameter ``path``) from this
   machine, its content stripped. Parameters with Jinja are rendered with the device as ``obj``, as
   Nautobot does. Any other provider (HashiCorp Vault, AWS...) only Nautobot can read: the group is then
   unusable for the device, with the reason;
3. ``global``: the module's ``username`` / ``password`` options (``NAPALM_USERNAME`` / ``NAPALM_PASSWORD``).

A device none of them gives a login is skipped, with every source tried and why it did not serve. No value
ever appears in a reason, a result or a message: ``Scrubber`` replaces the values resolved in this run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import MissingCredentials

try:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    HAS_JINJA2 = True
except ImportError:  # pragma: no cover - jinja2 comes with ansible-core
    HAS_JINJA2 = False

SOURCES = ("inventory", "secrets_group", "global")
READABLE_PROVIDERS = ("environment-variable", "text-file")
MASK = "********"

# Nautobot's SecretsGroupAccessTypeChoices: REST gives the value (``HTTP(S)``), GraphQL the enum name
# (``HTTP_S_``); both compare by their letters and digits (``HTTPS``).
ACCESS_TYPE_LABELS = {
    "GENERIC": "Generic",
    "CONSOLE": "Console",
    "GNMI": "gNMI",
    "HTTPS": "HTTP(S)",
    "NETCONF": "NETCONF",
    "REST": "REST",
    "RESTCONF": "RESTCONF",
    "SNMP": "SNMP",
    "SSH": "SSH",
}
# The access type a NAPALM driver's transport is: eAPI and NX-API are HTTP(S), Junos NETCONF.
DRIVER_ACCESS_TYPES = {
    "eos": "HTTPS",
    "nxos": "HTTPS",
    "junos": "NETCONF",
    "iosxr_netconf": "NETCONF",
    "nxos_ssh": "SSH",
    "ios": "SSH",
    "iosxr": "SSH",
}
INVENTORY_VARIABLES = "napalm_username / napalm_password or ansible_user / ansible_password"
GLOBAL_NAMES = "the username and password options (NAPALM_USERNAME / NAPALM_PASSWORD)"


def _key(value):
    return re.sub(r"[^A-Z0-9]", "", str(value or "").upper())


def access_type_label(value):
    """``HTTP_S_`` or ``HTTP(S)`` -> ``HTTP(S)`` (Nautobot's label); an unknown one as it came."""
    return ACCESS_TYPE_LABELS.get(_key(value), str(value))


def access_types_for(device, napalm_driver=None, optional_args=None):
    """The access types to look for in the device's secrets group, in order (keys such as ``NETCONF``).

    The one the device's config context names for Golden Config's nornir (``nautobot_plugin_nornir:
    secret_access_type``), the platform's (its NAPALM driver's transport), then ``Generic``.
    """
    order = []
    context = (device or {}).get("config_context") or {}
    nornir = context.get("nautobot_plugin_nornir") if isinstance(context, dict) else None
    if isinstance(nornir, dict) and nornir.get("secret_access_type"):
        order.append(_key(nornir["secret_access_type"]))
    driver = str(napalm_driver or "").strip().lower()
    platform = DRIVER_ACCESS_TYPES.get(driver)
    if driver == "eos" and str((optional_args or {}).get("transport") or "").lower() == "ssh":
        platform = "SSH"
    if platform:
        order.append(platform)
    order.append("GENERIC")
    return [kind for index, kind in enumerate(order) if kind and kind not in order[:index]]


class Login(object):
    """A resolved login: the values, and where they came from (``source`` one of ``SOURCES``, ``detail``
    for people: never a value)."""

    def __init__(self, username, password, source, detail):
        self.username = username
        self.password = password
        self.source = source
        self.detail = detail

    def __repr__(self):  # never the values
        return "Login(source=%r, detail=%r)" % (self.source, self.detail)


class Resolution(object):
    """One device's outcome: ``login`` (a ``Login`` or ``None``) and ``tried``: for each source tried and
    passed over, why (``"inventory: no inventory host access1"``...)."""

    def __init__(self, device_name, login=None, tried=None):
        self.device_name = device_name
        self.login = login
        self.tried = list(tried or [])

    @property
    def reason(self):
        return "; ".join(self.tried)

    @property
    def message(self):
        """The line a skipped device gets."""
        return "No NAPALM login for {0}, not connected. Tried {1}".format(self.device_name, self.reason)


class SecretUnusable(Exception):
    """Why a secret cannot be read on the controller (no value in the message)."""


def _render(value, device):
    """A secret parameter rendered as Nautobot renders it (Jinja, the device as ``obj``); plain text as it is."""
    text = str(value)
    if "{" not in text:
        return text
    if not HAS_JINJA2:  # pragma: no cover - jinja2 comes with ansible-core
        raise SecretUnusable("its parameters use Jinja, and jinja2 is not installed here")
    try:
        return SandboxedEnvironment(undefined=StrictUndefined).from_string(text).render(obj=device or {})
    except Exception as exc:  # noqa: BLE001 - any template fault makes the secret unusable, with the reason
        raise SecretUnusable(
            "its parameter {0!r} cannot be rendered for this device from what the controller reads of it "
            "({1}: {2})".format(text, type(exc).__name__, exc)
        ) from exc


class SecretReader(object):
    """Reads Nautobot secrets the way its built-in providers do, each once per run (``cache``).

    ``environ`` (default ``os.environ``) and ``read_text(path)`` are injected for the tests.
    """

    def __init__(self, environ=None, read_text=None):
        self.environ = os.environ if environ is None else environ
        self.read_text = read_text or _read_text
        self.cache = {}

    def value(self, secret, device):
        """The secret's value, or raise ``SecretUnusable`` saying why."""
        provider = str(secret.get("provider") or "")
        if provider not in READABLE_PROVIDERS:
            raise SecretUnusable(
                "provider {0!r} cannot be read by the controller (it reads {1})".format(
                    provider, " and ".join(READABLE_PROVIDERS)
                )
            )
        parameters = secret.get("parameters")
        if isinstance(parameters, str):
            try:
                parameters = json.loads(parameters)
            except ValueError:
                parameters = None
        if not isinstance(parameters, dict):
            raise SecretUnusable("its parameters are not a dict")
        needed = "variable" if provider == "environment-variable" else "path"
        if not parameters.get(needed):
            raise SecretUnusable("its provider {0} needs the parameter {1!r}".format(provider, needed))
        where = _render(parameters[needed], device)
        key = (provider, where)
        if key not in self.cache:
            self.cache[key] = self._read(provider, where)
        found = self.cache[key]
        if isinstance(found, SecretUnusable):
            raise found
        return found

    def _read(self, provider, where):
        if provider == "environment-variable":
            value = self.environ.get(where)
            if value is None:
                return SecretUnusable("environment variable {0} is not set on the controller".format(where))
            if value == "":
                return SecretUnusable("environment variable {0} is empty on the controller".format(where))
            return value
        try:
            value = self.read_text(where)
        except (IOError, OSError) as exc:
            return SecretUnusable(
                "file {0} cannot be read on the controller ({1})".format(where, getattr(exc, "strerror", None) or exc)
            )
        value = value.strip()  # as Nautobot's text-file provider: whitespace and newlines around it dropped
        if not value:
            return SecretUnusable("file {0} is empty".format(where))
        return value


def _read_text(path):
    if not os.path.isfile(path):
        raise IOError(2, "not found", path)
    with open(path, "rt", encoding="utf8") as handle:
        return handle.read()


def _association_type(association, key):
    return _key(association.get(key))


class CredentialResolver(object):
    """Resolves devices' logins in the documented order; one per run (its secret reads are cached).

    ``inventory``: device name -> ``{"username": ..., "password": ...}`` (the option ``device_credentials``);
    ``username`` / ``password``: the global login (the options, ``NAPALM_USERNAME`` / ``NAPALM_PASSWORD``).
    """

    def __init__(self, inventory=None, username=None, password=None, reader=None):
        self.inventory = dict(inventory or {})
        self.username = username or None
        self.password = password or None
        self.reader = reader or SecretReader()
        self.logins = []

    @classmethod
    def from_params(cls, params, reader=None):
        return cls(
            params.get("device_credentials"),
            params.get("username"),
            params.get("password"),
            reader=reader,
        )

    def resolve(self, device, napalm_driver=None, optional_args=None):
        """The device's ``Resolution``: its login from the first source that gives one, or every reason."""
        name = str(device.get("name") or device.get("id"))
        tried = []
        for source, attempt in (
            ("inventory", self._from_inventory),
            ("secrets_group", lambda d: self._from_secrets_group(d, napalm_driver, optional_args)),
            ("global", self._from_global),
        ):
            login, why = attempt(device)
            if login is not None:
                self.logins.append(login)
                return Resolution(name, login, tried)
            tried.append("{0}: {1}".format(source.replace("_", " "), why))
        return Resolution(name, None, tried)

    # --- the sources: each returns (Login, None) or (None, why) ------------------------------------------
    def _from_inventory(self, device):
        name = str(device.get("name") or "")
        entry = self.inventory.get(name)
        if entry is None and device.get("id"):
            entry = self.inventory.get(str(device["id"]))
        if entry is None:
            return None, "no inventory host {0} with {1}".format(name or device.get("id"), INVENTORY_VARIABLES)
        if not isinstance(entry, dict):
            return None, "the inventory entry of {0} is not a dict of username and password".format(name)
        missing = [key for key in ("username", "password") if not entry.get(key)]
        if missing:
            return None, "inventory host {0} has no {1} ({2})".format(
                name, " and no ".join(missing), INVENTORY_VARIABLES
            )
        return Login(str(entry["username"]), str(entry["password"]), "inventory", "inventory host " + name), None

    def _from_secrets_group(self, device, napalm_driver, optional_args):
        group = device.get("secrets_group")
        if not isinstance(group, dict) or not group.get("name"):
            return None, "no secrets group (or the Nautobot token cannot view it)"
        label = "secrets group {0!r}".format(str(group["name"]))
        associations = [a for a in group.get("secrets_group_associations") or [] if isinstance(a, dict)]
        wanted = access_types_for(device, napalm_driver, optional_args)
        chosen = None
        for kind in wanted:
            found = {}
            for association in associations:
                secret_type = _association_type(association, "secret_type")
                if _association_type(association, "access_type") == kind and secret_type in ("USERNAME", "PASSWORD"):
                    found.setdefault(secret_type, association)
            if len(found) == 2:
                chosen = kind, found
                break
        names = " or ".join(access_type_label(kind) for kind in wanted)
        if chosen is None:
            return None, "{0} has no username and password secrets of access type {1}{2}".format(
                label,
                names,
                "" if associations else " (it shows none: the token may lack extras.view_secretsgroupassociation)",
            )
        kind, found = chosen
        values = {}
        providers = []
        for secret_type in ("USERNAME", "PASSWORD"):
            secret = found[secret_type].get("secret")
            if not isinstance(secret, dict):
                return None, "{0}: its {1} secret is hidden (the token may lack extras.view_secret)".format(
                    label, secret_type.lower()
                )
            try:
                values[secret_type] = self.reader.value(secret, device)
            except SecretUnusable as exc:
                return None, "{0}: the {1} secret {2!r}: {3}".format(
                    label, secret_type.lower(), str(secret.get("name") or "?"), exc
                )
            if secret.get("provider") not in providers:
                providers.append(str(secret.get("provider")))
        detail = "{0} (access type {1}, {2})".format(label, access_type_label(kind), ", ".join(providers))
        return Login(values["USERNAME"], values["PASSWORD"], "secrets_group", detail), None

    def _from_global(self, _device):
        if self.username and self.password:
            return Login(self.username, self.password, "global", GLOBAL_NAMES), None
        if not self.username and not self.password:
            return None, "no NAPALM_USERNAME / NAPALM_PASSWORD (nor the username and password options)"
        return None, "only a {0}, no {1} (the username and password options, NAPALM_USERNAME / NAPALM_PASSWORD)".format(
            "username" if self.username else "password", "password" if self.username else "username"
        )

    # --- what never shows ------------------------------------------------------------------------------------
    def scrubber(self, extra=()):
        """A ``Scrubber`` for every login this resolver handed out, the global one and ``extra`` values."""
        passwords = [login.password for login in self.logins] + [self.password] + list(extra)
        usernames = [login.username for login in self.logins] + [self.username]
        return Scrubber(passwords, usernames)

    def missing_words(self):
        """What the global login lacks: ``["username", "password"]``, one of them, or ``[]``."""
        return [key for key, value in (("username", self.username), ("password", self.password)) if not value]


# Result keys whose text is a message: usernames are scrubbed there too (elsewhere, e.g. in a configuration
# diff or the trigger, a word that equals a username is most likely the device's own or a person's).
MESSAGE_KEYS = ("msg", "warnings", "previous_hosts_error")


class Scrubber(object):
    """Replaces secret values in text and in results: passwords (and tokens) wherever they appear,
    usernames as whole words in messages (``MESSAGE_KEYS``; not in configuration diffs, where a username is
    the device's own configuration)."""

    def __init__(self, secrets=(), usernames=()):
        self.secrets = sorted(set(str(s) for s in secrets if s and len(str(s)) >= 3), key=len, reverse=True)
        self.usernames = sorted(set(str(u) for u in usernames if u and len(str(u)) >= 3), key=len, reverse=True)
        self._words = (
            re.compile(r"(?<![\w.@-])(?:{0})(?![\w.@-])".format("|".join(re.escape(u) for u in self.usernames)))
            if self.usernames
            else None
        )

    def text(self, value, usernames=True):
        text = "" if value is None else str(value)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        if usernames and self._words is not None:
            text = self._words.sub(MASK, text)
        return text

    def result(self, value, usernames=False):
        """A copy of a result (dicts, lists, strings) with the values scrubbed."""
        if isinstance(value, dict):
            return dict((key, self.result(item, usernames or key in MESSAGE_KEYS)) for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return [self.result(item, usernames) for item in value]
        if isinstance(value, str):
            return self.text(value, usernames)
        return value


def no_login_error(resolutions, resolver, shown=5):
    """The error of a run in which no device has a login (``MissingCredentials``): what the global login
    lacks, and for the first ``shown`` devices every source tried."""
    missing = resolver.missing_words() or ["username", "password"]
    lines = ["{0} ({1})".format(r.device_name, r.reason) for r in resolutions[:shown]]
    if len(resolutions) > shown:
        lines.append("and {0} more".format(len(resolutions) - shown))
    return MissingCredentials(
        "NAPALM credentials missing: {0}. No device has a login: {1}. Give the devices a login: inventory variables "
        "(napalm_username / napalm_password, or ansible_user / ansible_password; Ansible Vault works), their Nautobot "
        "secrets group (environment-variable or text-file secrets the controller can read), or the username and "
        "password options (or the NAPALM_USERNAME and NAPALM_PASSWORD environment variables); there are no default "
        "credentials.".format(" and ".join(missing), "; ".join(lines)),
        missing=missing,
        credentials_tried=dict((r.device_name, list(r.tried)) for r in resolutions),
    )
