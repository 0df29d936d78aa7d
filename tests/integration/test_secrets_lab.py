"""Device secrets never leave the collection readable, on the live lab: secrets seeded into the lab's
intended configurations are pushed to the simulated devices unmasked, and masked in everything people
read - the playbook's output (what AWX shows and the rulebook daemon logs), ``--diff``, the notes in
Nautobot, and the rollback's output - and no note holds a copy of a configuration.

The lab's templates must carry the seeded lines (``SEEDED``, in ``lab/templates/arista_eos.j2``'s common
part); the test fails saying so when they do not. For the mixed fleet, add each platform's lines to its
template and an entry here (device, simulator name, lines).
"""

from __future__ import annotations

import pytest

from tests.integration.provision_helpers import (
    notes_with,
    restored,
    run_playbook,
    sim_device,
    sim_set_running,
)

pytestmark = pytest.mark.lab

# (line in the intended configuration, the secret value in it)
SEEDED = {
    "eos": [
        (
            "username lab-ops privilege 15 role network-operator secret sha512 "
            "$6$LabSeed1$yJ4Vd0sJrQ3uXQ8o1n0Wq9m3S0QZy0Xw1p6HkM9Fq0T2mJ9v8c4bQ2r7N5eL3aG1hK6dP0sX9wZ4uY8tR2iO5",
            "yJ4Vd0sJrQ3uXQ8o1n0Wq9m3",
        ),
        ("snmp-server community Lab-Seed-C0mm ro", "Lab-Seed-C0mm"),
        ("ntp authentication-key 7 md5 7 13061E010803557878", "13061E010803557878"),
        ("tacacs-server key 7 070C285F4D06181A", "070C285F4D06181A"),
    ],
}
# (Nautobot device, simulated device, platform)
DEVICES = [("access1", "access1", "eos")]
OTHER_HASH = "$6$LabSeed2$Zq8Wc1tKsR4vYP9p2o1Xr0n4T1RAz1Yx2q7IlN0Gr1U3nK0w9d5cR3s8O6fM4bH2iL7eQ1tY0xA5vZ9uS3jP6"


def _secrets(platform):
    return [secret for _line, secret in SEEDED[platform]]


def _assert_masked(text, platform, where):
    leaked = [secret for secret in _secrets(platform) + ["LabSeed2$Zq8Wc1tKsR4v"] if secret in text]
    assert not leaked, f"{where} shows {leaked}:\n{text}"


def _intent(lab, device_name):
    api = lab["api"]
    device = api.dcim.devices.get(name=device_name)
    answer = api.http_session.get(
        f"{api.base_url}/plugins/golden-config/generate-intended-config/",
        params={"device_id": str(device.id)},
        headers={"Authorization": f"Token {api.token}", "Accept": "application/json"},
        timeout=60,
    )
    answer.raise_for_status()
    return answer.json()["intended_config"]


@pytest.mark.parametrize(("device_name", "sim_name", "platform"), DEVICES)
def test_seeded_secrets_are_pushed_and_never_shown(lab, trigger, device_name, sim_name, platform):
    intent = _intent(lab, device_name)
    missing = [line for line, _secret in SEEDED[platform] if line not in intent]
    assert not missing, (
        f"the lab's intended configuration of {device_name} lacks the seeded secret lines {missing}: add them to "
        f"the {platform} template (lab/templates/)"
    )
    with restored(lab, sim_name) as ctx:
        # the device without the seeded lines: the diff adds them
        stripped = "\n".join(
            line for line in ctx["running"].splitlines() if not any(line == seeded for seeded, _s in SEEDED[platform])
        )
        sim_set_running(lab, sim_name, stripped + "\n")

        dry = run_playbook(lab, device_name, dry_run=True, diff=True, trigger=trigger)
        assert dry.returncode == 0, dry
        _assert_masked(dry.stdout, platform, "the dry run's output")
        assert "+snmp-server community <removed> ro" in dry.stdout, dry

        live = run_playbook(lab, device_name, dry_run=False, trigger=trigger)
        assert live.returncode == 0, live
        _assert_masked(live.stdout, platform, "the live run's output")
        running = sim_device(lab, sim_name)["running_config"]
        for line, _secret in SEEDED[platform]:
            assert line in running, f"{line!r} was not pushed unmasked"

        # only the user's hash differs: the diff says a secret changed, and shows neither hash
        seeded_user = SEEDED[platform][0][0]
        sim_set_running(lab, sim_name, running.replace(seeded_user, seeded_user.split(" $6$")[0] + " " + OTHER_HASH))
        changed = run_playbook(lab, device_name, dry_run=True, trigger=trigger)
        assert changed.returncode == 0 and "(secret changed)" in changed.stdout, changed
        _assert_masked(changed.stdout, platform, "a secret-only change")
        sim_set_running(lab, sim_name, running)

        rollback = run_playbook(
            lab, device_name, dry_run=True, trigger=trigger, playbook="sotsync.nautobot.rollback_device"
        )
        assert rollback.returncode == 0 and "DRY RUN: the rollback would restore" in rollback.stdout, rollback
        _assert_masked(rollback.stdout, platform, "the rollback's dry run")

        notes = [n.note for n in notes_with(lab["api"], trigger)]
        assert len(notes) >= 3, notes
        for note in notes:
            _assert_masked(note, platform, "a note")
            assert "Running configuration before this push" not in note
        committed = [n for n in notes if n.startswith("[success]")]
        assert committed and "- rollback point: before sha256:" in committed[0], notes
        assert "- device restore point: " in committed[0], committed


# The mixed fleet: each platform's seeded secrets, as its template renders them. The device starts with
# other values in their place, so every diff, note and result line carries a secret change.
MIXED = {
    "nxos1": [("Lab-Seed-NxC0mm", "Other-NxC0mm"), ("LabSeedNxTac", "OtherNxTac")],
    "junos1": [
        ("Jn0sQ8v2Wm4pX7rT1yK9bL3dF6hG0zC5aE2uI8oP4sR7tY1wV3xN6mB9qZ0jH5kL2", "Ot0hQ8v2Wm4pX7rT1yK9bL3dF6hG0zC5aE2"),
        ("Lab-Seed-JunC0mm", "Other-JunC0mm"),
    ],
    "ios1": [
        ("Lab-Seed-IosC0mm", "Other-IosC0mm"),
        ("$9$LabSeedIos1$Yq4dT0sJrQ3uXQ8o1n0Wq9m3S0QZy0Xw1p6HkM9Fq0T", "$9$OtherIos1$Yq4dT0sJrQ3uXQ8o1n0Wq9m3S0QZ"),
    ],
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_mixed_fleet_secrets_are_pushed_and_never_shown(lab, trigger, name):
    values = [v for pair in MIXED[name] for v in pair]
    intent = _intent(lab, name)
    missing = [seeded for seeded, _other in MIXED[name] if seeded not in intent]
    assert not missing, f"the {name} template lacks the seeded secrets {missing} (lab/templates/)"
    with restored(lab, name) as ctx:
        other = ctx["running"]
        for seeded, replacement in MIXED[name]:
            other = other.replace(seeded, replacement)
        assert other != ctx["running"], "the device does not carry the seeded secrets"
        sim_set_running(lab, name, other)

        dry = run_playbook(lab, name, dry_run=True, diff=True, trigger=trigger)
        assert dry.returncode == 0 and dry.recap(name)["changed"] == 1, dry
        live = run_playbook(lab, name, dry_run=False, trigger=trigger)
        assert live.returncode == 0 and live.recap(name)["changed"] == 1, live
        running = sim_device(lab, name)["running_config"]
        assert all(seeded in running for seeded, _other in MIXED[name]), "the secrets were not pushed unmasked"
        notes = [n.note for n in notes_with(lab["api"], trigger)]
        assert notes, "no note was written"
        for where, text in [("the dry run", dry.stdout), ("the live run", live.stdout)] + [
            ("a note", n) for n in notes
        ]:
            leaked = [v for v in values if v in text]
            assert not leaked, f"{where} shows {leaked}:\n{text}"
            assert "Running configuration before this push" not in text
        assert "<removed>" in dry.stdout, dry
