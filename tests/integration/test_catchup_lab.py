"""No change lost: changes made while the rulebook daemon is down are caught up from Nautobot's change
log when it starts again, each changed device provisioned once, on its latest state."""

from __future__ import annotations

import re

import pytest

from lab import fleet, hookrun, seed

pytestmark = pytest.mark.lab
RUN_SUMMARY = re.compile(r"^(\d+) device\(s\): .* failed \(devices read in ", re.M)
DEVICES = 20
ROUNDS = 5  # renames per device while the daemon is down: 100 changes


def bulk_rename(api, names: dict[str, str]) -> None:
    body = [{"id": device_id, "name": name} for device_id, name in names.items()]
    api.http_session.patch(f"{api.base_url}/dcim/devices/", json=body, timeout=120).raise_for_status()


def test_changes_made_while_the_daemon_is_down_are_provisioned_once_on_their_latest_state(lab):
    api = seed.connect(lab["nautobot_url"], lab["nautobot_token"])
    devices = fleet.ensure(api, DEVICES, lab["sim_control_url"], lab["sim_port"], log=print)
    original = {d["id"]: d["name"] for d in devices}
    final = {device_id: f"{name}-r{ROUNDS}" for device_id, name in original.items()}
    cursor = None
    try:
        # A first run leaves its change-log cursor behind (saved at once on a first start).
        with hookrun.RulebookDaemon(lab, log_name="test-catchup") as daemon:
            cursor = daemon.cursor
            daemon.wait_for(lambda _: cursor.exists(), 30, "the change-log cursor file")
        # The daemon is down: 100 changes, 5 renames of each of 20 devices, that no webhook delivers.
        for round_ in range(1, ROUNDS + 1):
            bulk_rename(api, {device_id: f"{name}-r{round_}" for device_id, name in original.items()})
        with hookrun.RulebookDaemon(lab, log_name="test-catchup", keep_cursor=True) as daemon:
            daemon.wait_for(
                lambda text: all(f"{name}: DRY RUN mode" in text for name in final.values()),
                180,
                "every changed device's result",
            )
            daemon.wait_for(
                lambda text: sum(int(n) for n in RUN_SUMMARY.findall(text)) >= DEVICES, 60, "the runs' summaries"
            )
            text = daemon.settle()  # the change log read past every change, every run ended
        # Each device's renames are merged into one event per batch of changes the source holds before
        # it saves its cursor (page_size changes, here 100). Other changes in the read (the overlap
        # before the cursor, other models) can move that boundary so a device's last rename falls into
        # the next batch: then it is decided twice (once per batch), and the batch window still makes
        # one run of it, on its latest state (asserted below).
        decisions = text.count("Configuration-relevant fields changed: ['name']")
        assert DEVICES <= decisions <= 2 * DEVICES, f"{decisions} decisions:\n{text[-3000:]}"
        for device_id, name in final.items():
            assert text.count(f"{name}: DRY RUN mode: Discarding configuration changes") == 1, text[-4000:]
            assert f"+hostname {name}" in text, name
            for round_ in range(1, ROUNDS):  # never provisioned on an intermediate state
                assert f"{original[device_id]}-r{round_}: DRY RUN" not in text
        sizes = [int(n) for n in RUN_SUMMARY.findall(text)]
        assert sum(sizes) == DEVICES, (sizes, text[-4000:])
        print(f"catch-up: {DEVICES * ROUNDS} changes, {decisions} decisions, runs of {sizes}")
    finally:
        bulk_rename(api, original)  # with no daemon running: nothing to provision
        if cursor is not None:
            cursor.unlink(missing_ok=True)


def test_a_config_context_change_reaches_exactly_the_devices_in_its_scope(lab):
    """Nautobot sends no webhook for config contexts: the change log delivers the change, to each
    device the context applies to (here: the role Distribution Switch, so dist1 only)."""
    api = seed.connect(lab["nautobot_url"], lab["nautobot_token"])
    role = api.extras.roles.get(name=seed.DIST)
    context = None
    with hookrun.RulebookDaemon(lab, log_name="test-related") as daemon:
        try:
            context = api.extras.config_contexts.create(
                name="pytest related: NTP for distribution",
                weight=3000,
                roles=[role.id],
                data={"ntp_servers": ["ntp9.pytest.test"]},
            )
            daemon.wait_for(lambda text: "dist1: DRY RUN mode" in text, 60, "dist1's dry run")
            text = daemon.settle()  # every device the change reaches is decided and run by now
            assert "Device dist1: Configuration-relevant fields changed: ['config_context']" in text, text[-3000:]
            assert "+ntp server ntp9.pytest.test" in text
            for other in ("access1", "access2"):
                assert f"Device {other}: Configuration-relevant" not in text
                assert f"{other}: DRY RUN" not in text
            assert text.count("dist1: DRY RUN mode") == 1
        finally:
            if context is not None:
                mark = daemon.mark()
                context.delete()
                daemon.wait_for(lambda _: "dist1: DRY RUN mode" in daemon.text(mark), 60, "the delete's dry run")
