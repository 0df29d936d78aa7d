#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: golden_config_deploy
short_description: Merge devices' Golden Config intended configurations with NAPALM
version_added: 0.1.0
description:
  - Brings one device, a list of devices, or every device a Nautobot filter selects to its intended
    configuration from Nautobot's Golden Config app, in one task.
  - Runs on the controller as an action plugin, one process for the whole batch. The devices are read from
    Nautobot in a few queries, the intents rendered by one Golden Config job per 100 devices (or on demand
    one at a time for a few devices, see O(intent_source)), up to O(workers) NAPALM sessions run at once,
    and the notes on the devices are written in bulk in the background. A line per device is printed as it
    finishes (its outcome and diff). A failing device fails only itself; the task fails at the end naming it.
  - Re-validates each device's readiness against live Nautobot data first (the same rules and
    messages as the rulebook). A platform is set, the platform has a NAPALM driver (its explicit
    C(napalm_driver), else Nautobot's mapping of its C(network_driver)), a primary IPv4 is set and
    the status is one of O(ready_statuses).
  - Fetches the intended configuration (rendered now, or the stored one) and refuses an empty or
    failed render. For a device Golden Config does not know yet (created after its settings' group
    cache was last refreshed, so the render answers "No Golden Config settings found"), runs Golden
    Config's "Generate Intended Configurations" job for the device, which refreshes that cache, and
    renders again. The token then needs permission to run that job.
  - Resolves each ready device's NAPALM login once, from the inventory (O(device_credentials)), else the
    device's Nautobot secrets group, else O(username) and O(password) (see O(device_credentials)). A device
    without one is skipped with every source tried; when no device has one, the task fails.
  - Connects with the platform's NAPALM driver to the primary IPv4 (without mask), loads the intent as
    a B(merge) candidate (there is no replace option), and compares it.
  - In dry run or check mode the candidate is discarded. Otherwise it is committed only when the diff
    is not empty, with commit-confirm where the driver supports it (EOS does); the module then checks
    that the device still answers and that its running configuration has every intended line, and
    confirms, or rolls back and fails.
  - The candidate is discarded and the connection closed on every path, including failures.
  - Writes a note on the device in Nautobot (a Nautobot Note) recording what happened (not in check mode),
    led by its kind (C([info]), C([success]), C([warning]) or C([danger])).
author:
  - sotsync team (@sotsync)
requirements:
  - pynautobot
  - napalm (and the driver's own library, for example pyeapi for EOS)
extends_documentation_fragment:
  - sotsync.nautobot.nautobot
  - sotsync.nautobot.napalm
  - sotsync.nautobot.golden_config_jobs
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode is a dry run; the candidate is loaded, compared and discarded.
  diff_mode:
    support: full
    details: Returns the device's own unified diff, secrets masked, as C(diff.prepared).
  platform:
    platforms: posix
options:
  device:
    description:
      - One Nautobot device, by name or by UUID. Its result's keys are also returned at the top level.
      - Comma-separated names are accepted too; O(devices) and O(device_filter) add to it.
      - One of O(device), O(devices) or O(device_filter) is required.
    type: str
  devices:
    description:
      - Nautobot devices by name or UUID, looked up 100 per request.
    type: list
    elements: str
  device_filter:
    description:
      - "Select devices with Nautobot's device filters, as the REST API takes them, for example
        C({location: Site A}), C({role: Access, status: Active}) or C({tag: core})."
      - A JSON string of such a dict is accepted too (what C(-e filter=...) gives).
      - An unknown filter fails the task with Nautobot's message.
    type: raw
  workers:
    description:
      - NAPALM sessions open at once (1 to 64).
    type: int
    default: 8
  intent_source:
    description:
      - Where the intended configurations come from.
      - V(regenerate) has Golden Config render each device now from the templates
        (C(/api/plugins/golden-config/generate-intended-config/)), one device at a time (that endpoint
        re-syncs the template repository on every call and cannot run concurrently).
      - V(job) runs Golden Config's "Generate Intended Configurations" job for up to 100 devices at a time
        and reads the stored results; the next chunk renders while the previous one deploys. The same
        templates, GraphQL query and Jinja environment as V(regenerate). The token needs permission to run
        the job.
      - V(auto) is V(regenerate) for up to 8 devices and V(job) for more.
      - V(stored) uses the intended configuration stored by Golden Config's last
        "Generate Intended Configurations" job; its age is returned as RV(intent_age_seconds).
    type: str
    choices: [auto, regenerate, job, stored]
    default: auto
  dry_run:
    description:
      - Preview only, show the diff and discard the candidate. Check mode implies it.
    type: bool
    default: true
  ready_statuses:
    description:
      - Device statuses (by name) that count as ready for provisioning.
      - The role C(sotsync.nautobot.provision) passes the list from
        C(rulebooks/vars/device_config_hook.yml).
    type: list
    elements: str
    default: [Active, Planned, Staged]
  commit_confirm_seconds:
    description:
      - Commit with this NAPALM commit-confirm timer; the device reverts the change by itself unless the
        module confirms it after its checks.
      - V(0) commits without commit-confirm. Drivers without commit-confirm commit without it and warn.
    type: int
    default: 60
  verify:
    description:
      - After a commit, read the running configuration back and require every intended line in it
        (whitespace normalised; C(!) comments, C(end) and C(no ...) lines are not checked); roll back
        and fail otherwise.
    type: bool
    default: true
  readdress_without_confirm:
    description:
      - Allow a live push that moves a device to a new management address (its primary IPv4 changed in
        Nautobot) on a platform without commit-confirm (Cisco NX-OS). The commit is made at the old address
        after the platform's checkpoint and verified at the new one; a failed verification rolls back to the
        checkpoint, but a device that does not answer at its new address cannot be brought back from here.
      - V(false) refuses such a move and applies nothing. Platforms with commit-confirm (EOS, Junos) are moved
        under it whatever this says.
    type: bool
    default: false
  notes:
    description:
      - Write a note (a Nautobot Note) on the device with the outcome, the diff (secrets masked by the platform's
        rules) and the O(trigger). After a live commit the note records a rollback point - the fingerprints of
        the running configuration before and after the push and what names the device's own restore point -
        never a copy of the configuration.
      - Its kind is V(info) for a dry run or nothing to do, V(success) for a commit, V(warning) for a failure
        that left the device unchanged and V(danger) when the device's state is uncertain.
      - Skipped in check mode; a failure to write it is a warning, not a failure.
      - The alias O(journal) is deprecated and will be removed in 2.0.0.
    type: bool
    default: true
    aliases: [journal]
  notes_unchanged:
    description:
      - With O(notes), also write the note for a device that already has its intended configuration.
      - V(false) writes notes only where something happened or differs (differences shown or committed,
        failures), as the C(sotsync.nautobot.reconcile) playbook does, so a scheduled drift check leaves a
        note on the drifted devices only.
    type: bool
    default: true
  trigger:
    description:
      - What caused this run, recorded in the note, for example C(rulebook - name changed).
    type: str
    default: manual
  plan:
    description:
      - The approval gate. A dry run that, for each device with differences, files a Golden Config B(config plan)
        (a C(manual) plan made by Golden Config's C(Generate Config Plans) job, which must be enabled) whose config
        set is the device's full intended configuration, what a live merge would load, with the status
        C(Not Approved), the change control id C(sotsync.nautobot), and a note on the plan with the diff and the
        O(trigger). A device without differences gets no plan. Check mode files no plan.
      - "The device's line then reads C(X: PLANNED (config plan <id>, waiting for approval)) and its result has
        RV(plan_id) (in RV(results)). Once an engineer sets the plan's status to C(Approved) in Nautobot,
        M(sotsync.nautobot.config_plan_deploy) deploys it (the rulebook's approval mode does so by itself)."
      - Cannot be combined with O(dry_run=false) (the task fails with C(invalid_parameter)).
    type: bool
    default: false
  compliance_drift:
    description:
      - A drift check beyond the merge. A merge shows only what the intent would B(add); this also reports, for each
        device compared (dry run or committed), the lines it has that its intent does not, in RV(drift).
      - B(extra), per Golden Config compliance feature. Golden Config's "Backup Configurations" then "Perform
        Configuration Compliance" jobs (its "Execute All Golden Configuration Jobs - Multiple Device" job when the
        intents were rendered on demand) run once for all the compared devices, then each feature's C(extra) and
        C(missing) lines and C(remediation) are read from Golden Config's compliance records. See
        O(compliance_max_age) to reuse its stored compliance instead.
      - B(not covered), the lines Golden Config cannot see. The running configuration's lines (as the device's NAPALM
        session reads it, once the candidate is compared) that are not in the intent and fall under no
        C(match_config) section of the compliance rules Golden Config checks the device with (those of its platform's
        network driver). Never reported as compliant.
      - A device Golden Config cannot back up or check (no backup repository, no compliance rule for its platform,
        its job failed) is reported with why, never as a device without extra lines.
      - Merge only, whatever this says. Extra lines are reported, never removed; removing them needs an approval.
      - Each device's note then waits for the check and says what it found. A device with extra lines gets a note
        even when the merge would add nothing.
      - In check mode no job runs and Golden Config's stored compliance is shown, whatever its age.
      - Replaces the compliance step after live commits (O(update_compliance)) for the run. The committed devices'
        compliance is brought up to date by the same jobs.
      - Every line shown is masked like the diffs. The run's figures are in RV(summary.compliance).
      - The token needs permission to run the jobs and to read Golden Config's settings, records and rules.
    type: bool
    default: false
  compliance_max_age:
    description:
      - With O(compliance_drift), reuse Golden Config's stored compliance of a device, instead of running its jobs,
        when the backup that compliance compared is at most this many seconds old. Its age is shown.
      - V(0) always runs the jobs. A committed device's compliance is always brought up to date.
    type: int
    default: 0
notes:
  - Failures carry a machine-readable RV(error) code, for example C(device_not_ready),
    C(render_failed), C(device_unreachable), C(device_authentication), C(config_rejected),
    C(commit_verification_failed), C(nautobot_unreachable), C(nautobot_authentication),
    C(device_not_found), C(missing_credentials).
  - The module runs where the Nautobot API and the devices are reachable; use it with
    C(delegate_to=localhost) or C(connection=local).
  - Part of the action group C(sotsync.nautobot.nautobot), so shared options can be set once with
    C(module_defaults).
seealso:
  - name: Nautobot Golden Config
    description: The app that renders the intended configuration.
    link: https://docs.nautobot.com/projects/golden-config/en/latest/
  - name: NAPALM
    description: The device abstraction used to merge, compare, commit and roll back.
    link: https://napalm.readthedocs.io/
"""

EXAMPLES = r"""
- name: Bring every device of a site to its intent (dry run), 16 sessions at once
  sotsync.nautobot.golden_config_deploy:
    device_filter:
      location: Lab Site A
    workers: 16
  register: site

- name: Commit a list of devices
  sotsync.nautobot.golden_config_deploy:
    devices: [access1, access2, dist1]
    dry_run: false
    trigger: "manual: change CHG0002"

- name: Preview access1's intended configuration (dry run is the default)
  sotsync.nautobot.golden_config_deploy:
    device: access1
    nautobot_url: https://nautobot.example.com
    nautobot_token: "{{ vault_nautobot_token }}"
    username: "{{ vault_napalm_username }}"
    password: "{{ vault_napalm_password }}"
  delegate_to: localhost
  register: preview

- name: Commit it, with a 2 minute commit-confirm, credentials from the environment
  sotsync.nautobot.golden_config_deploy:
    device: access1
    dry_run: false
    commit_confirm_seconds: 120
    trigger: "manual: change CHG0001"
  delegate_to: localhost

- name: Use the stored intended configuration and an HTTPS port from the task
  sotsync.nautobot.golden_config_deploy:
    device: 5f8c5e3e-9f67-4b5e-9d3c-2b1e1f0a7c11
    intent_source: stored
    optional_args:
      transport: https
      port: 8443
  delegate_to: localhost

- name: Commit a site's devices, Golden Config's jobs on their own queue; report who is not compliant after
  sotsync.nautobot.golden_config_deploy:
    device_filter:
      location: Lab Site A
    dry_run: false
    job_queue: sotsync-render
  delegate_to: localhost
  register: site

- name: Name the devices Golden Config finds not compliant after the commits
  ansible.builtin.debug:
    msg: "{{ site.summary.compliance.noncompliant | default([]) }}"

- name: A drift check both ways, reusing Golden Config's compliance of the last hour
  sotsync.nautobot.golden_config_deploy:
    device_filter:
      location: Lab Site A
    compliance_drift: true
    compliance_max_age: 3600
    notes_unchanged: false
  delegate_to: localhost
  register: drift_check

- name: Name the devices with lines their intent does not have
  ansible.builtin.debug:
    msg: "{{ drift_check.summary.compliance.extra | default({}) }}"
"""

RETURN = r"""
compliance:
  description:
    - After a live commit (O(update_compliance)), the device's Golden Config compliance as Golden Config's
      "Execute All Golden Configuration Jobs - Multiple Device" job left it.
  returned: when the device was committed and O(update_compliance) is true
  type: dict
  contains:
    updated:
      description: Whether the job backed the device up and checked its compliance.
      type: bool
    msg:
      description: The line that says it (also printed).
      type: str
    error:
      description: Why its compliance was not brought up to date (the commit stands).
      type: str
      returned: when RV(compliance.updated) is false
    compliant:
      description: Whether every compliance feature of the device is compliant.
      type: bool
      returned: when Golden Config has compliance records for the device
    features:
      description: Each compliance feature of the device and whether it is compliant.
      type: dict
      returned: when Golden Config has compliance records for the device
    noncompliant_features:
      description: The features that are not compliant, sorted.
      type: list
      elements: str
      returned: when Golden Config has compliance records for the device
    checked_at:
      description: Golden Config's C(compliance_last_success_date) of this check.
      type: str
      returned: when RV(compliance.updated) is true
    job_results:
      description:
        - The ids of the results of Golden Config's jobs in Nautobot, in the order they ran (their logs say what
          they did).
      type: list
      elements: str
  sample:
    updated: true
    compliant: false
    features: {interfaces: true, system: false, vlans: true}
    noncompliant_features: [system]
    checked_at: "2026-12-06T22:10:04.123456Z"
    job_results: [0b6f3e0c-8f59-4d4a-9d3f-6b1f5a2b7c10]
drift:
  description:
    - With O(compliance_drift), what the device has that its intent does not (every line masked). In each device's
      entry of RV(results), and at the top level for one device.
    - C(golden_config) says where its compliance came from. V(fresh) means Golden Config's jobs ran now. V(stored)
      adds C(age_seconds), the age of the backup it compared, and C(why_stored). V(not checked) comes with
      C(error), why.
    - C(features) maps each compliance feature to C(compliant) and C(ordered). A feature that is not compliant
      adds its C(extra) and C(missing) lines and, when its rule has one, Golden Config's C(remediation).
    - C(extra) maps each feature with extra lines to its lines. C(compliant), C(noncompliant_features),
      C(checked_at), C(backed_up_at) and C(job_results) say the rest of the check.
    - C(not_covered) is C({count, lines, more}), the lines in no compliance feature (the first 20), or C({error}).
    - C(msg) is the line that says it.
  returned: with O(compliance_drift), for a device compared
  type: dict
  sample:
    golden_config: fresh
    checked_at: "2026-12-06T22:10:04.123456Z"
    compliant: false
    noncompliant_features: [system]
    features:
      interfaces: {compliant: true, ordered: true}
      system: {compliant: false, ordered: false, extra: [ip host drift-probe 192.0.2.77], missing: []}
    extra: {system: [ip host drift-probe 192.0.2.77]}
    not_covered: {count: 1, lines: ["daemon probe > exec /usr/bin/probe"], more: 0}
    job_results: [0b6f3e0c-8f59-4d4a-9d3f-6b1f5a2b7c10]
    msg: "Golden Config compliance (fresh): extra lines in system (1 line(s)); 1 line(s) not covered by any Golden
      Config compliance feature"
results:
  description:
    - One entry per device, in the order they finished, with the keys below (RV(device), RV(msg),
      RV(config_diff), RV(committed), RV(error)...) and C(failed).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts of the batch and its timings.
  returned: always
  type: dict
  contains:
    devices:
      description: Devices in the batch.
      type: int
    committed:
      description: Devices whose change was committed (and verified).
      type: int
    dry_run:
      description: Devices with differences, shown and discarded.
      type: int
    unchanged:
      description: Devices that already had their intended configuration.
      type: int
    skipped:
      description:
        - Devices a filter selected that are not ready, and devices without a NAPALM login (RV(credentials_tried)),
          reported and left alone.
      type: int
    failed:
      description: Devices that failed.
      type: int
    planned:
      description:
        - Devices with differences for which a config plan was filed (O(plan)); not counted in RV(summary.dry_run).
      type: int
    planned_devices:
      description: Names of the RV(summary.planned) devices, sorted.
      type: list
      elements: str
    drifted:
      description:
        - Names of the devices that differed from their intended configuration when compared (the
          RV(summary.dry_run), RV(summary.planned) and RV(summary.committed) ones), sorted. A device that failed is in
          RV(summary.failed_devices) only.
      type: list
      elements: str
    skipped_devices:
      description: Names of the RV(summary.skipped) devices, sorted.
      type: list
      elements: str
    failed_devices:
      description: Names (or the names or UUIDs asked for) of the devices that failed, sorted.
      type: list
      elements: str
    msg:
      description: The line that says the counts (also printed at the end of the task).
      type: str
    intent_source:
      description: Where the intents came from for this batch (V(auto) resolved).
      type: str
    lookup_seconds:
      description: Time to read the devices from Nautobot.
      type: float
    total_seconds:
      description: Time for the whole batch.
      type: float
    compliance_seconds:
      description:
        - Time to bring the committed devices' Golden Config compliance up to date (with O(compliance_drift), the
          drift check's).
      type: float
      returned: when devices were committed and O(update_compliance) is true, or with O(compliance_drift)
    compliance:
      description:
        - The committed devices' Golden Config compliance after the run (O(update_compliance)).
        - C(updated), the count of devices brought up to date; C(not_updated) and C(noncompliant), the names
          of those that were not and of those not compliant.
        - With O(compliance_drift), the drift check of every compared device. C(updated), C(not_updated) and
          C(noncompliant) as above. C(stored) maps the name of each device whose stored compliance was reused to its
          age in seconds.
        - "C(extra) maps each device with extra lines to C({feature: [lines]}), the first 20 lines of each feature,
          then C(... N more line(s))."
        - C(not_covered) maps each device with lines in no compliance feature to C({count, lines, more}), the first
          20 lines. C(not_checked) maps each device Golden Config could not check, or whose lines outside its
          features are not known, to why. C(msg) is the line that says it.
      type: dict
      returned: when devices were committed and O(update_compliance) is true, or with O(compliance_drift)
  sample:
    devices: 4
    committed: 0
    dry_run: 1
    unchanged: 1
    skipped: 1
    failed: 1
    drifted: [access1]
    skipped_devices: [unready-no-ip]
    failed_devices: [dist1]
    intent_source: regenerate
failed_devices:
  description:
    - Names (or the names or UUIDs asked for) of the devices that failed, sorted (as
      RV(summary.failed_devices)).
  returned: when some failed, with O(devices) or O(device_filter)
  type: list
  elements: str
plan_id:
  description:
    - With O(plan), the id of the Golden Config config plan filed for a device with differences (status
      C(Not Approved)); in each device's entry of RV(results), and at the top level for one device.
  returned: with O(plan), for a device with differences
  type: str
  sample: 8d7a3f0e-2c1b-4f5e-9a6d-0b1c2d3e4f50
msg:
  description: What happened, in the words users know.
  returned: always
  type: str
  sample: "DRY RUN mode: Discarding configuration changes"
device:
  description: The device's name in Nautobot.
  returned: when the device was found
  type: str
  sample: access1
device_id:
  description: The device's UUID in Nautobot.
  returned: when the device was found
  type: str
  sample: 5f8c5e3e-9f67-4b5e-9d3c-2b1e1f0a7c11
host:
  description: The address NAPALM connected to (the primary IPv4 without mask).
  returned: success
  type: str
  sample: 127.0.1.11
napalm_driver:
  description: The NAPALM driver used.
  returned: success
  type: str
  sample: eos
credentials_source:
  description:
    - Where the device's NAPALM login came from, V(inventory) (O(device_credentials)), V(secrets_group) (its
      Nautobot secrets group) or V(global) (O(username) and O(password)). Never the login itself.
  returned: when the device was ready and had a login
  type: str
  sample: secrets_group
credentials_from:
  description: The same for people, e.g. the secrets group, its access type and the secrets' providers.
  returned: when the device was ready and had a login
  type: str
  sample: "secrets group 'junos-logins' (access type NETCONF, environment-variable)"
credentials_tried:
  description:
    - For a device skipped because no source gave it a NAPALM login, each source tried and why it did not
      serve (no value is ever shown).
  returned: when the device was skipped for want of a login
  type: list
  elements: str
  sample:
    - "inventory: no inventory host junos1 with napalm_username / napalm_password or ansible_user / ansible_password"
    - "secrets group: secrets group 'junos-logins': the password secret 'junos-pw': provider 'hashicorp-vault'
      cannot be read by the controller (it reads environment-variable and text-file)"
    - "global: no NAPALM_USERNAME / NAPALM_PASSWORD (nor the username and password options)"
config_diff:
  description:
    - The device's unified diff between its running configuration and the merged candidate; empty when
      nothing differs. With C(--diff) it is also returned as C(diff.prepared).
    - Secrets are masked by the platform's rules (passwords, keys, SNMP communities, pre-shared keys,
      certificate bodies become C(<removed>)); a removed and an added line that differ only in a masked
      value are shown as one line, marked C(~) and ending in C(secret changed). The device always gets the
      unmasked intent.
  returned: success, and on failures after the diff was computed
  type: str
  sample: "-hostname access1\n+hostname access-switch-1"
diff:
  description: Ansible diff mode output.
  returned: in diff mode, when the diff is not empty
  type: dict
  contains:
    prepared:
      description: The same text as RV(config_diff).
      type: str
committed:
  description: Whether the candidate was committed (and, with commit-confirm, confirmed).
  returned: success
  type: bool
  sample: false
dry_run:
  description: Whether this was a dry run (O(dry_run) or check mode).
  returned: when the device was found
  type: bool
  sample: true
check_mode:
  description: Whether the task ran in check mode.
  returned: success
  type: bool
commit_confirm:
  description: Whether the commit used NAPALM's commit-confirm.
  returned: success
  type: bool
verified:
  description: V(true) when the running configuration was checked after the commit; null when not checked.
  returned: success
  type: bool
intent_source:
  description: Where the intended configuration came from.
  returned: when the device was found
  type: str
  sample: regenerate
intent_age_seconds:
  description: Age of the stored intended configuration (from C(intended_last_success_date)); null for V(regenerate).
  returned: success
  type: int
intent_last_success:
  description: Golden Config's C(intended_last_success_date) of the stored intended configuration.
  returned: success, with O(intent_source=stored)
  type: str
render_seconds:
  description: How long Golden Config took to render the intent; null for V(stored).
  returned: success
  type: float
  sample: 0.12
trigger:
  description: The O(trigger) recorded in the note.
  returned: success
  type: str
note_id:
  description: UUID of the note (Nautobot Note on the device) written; null when O(notes=false), in check
    mode, or when writing it failed (then a warning says why).
  returned: when the device was found
  type: str
journal_entry_id:
  description: Deprecated (removed in 2.0.0), the same as RV(note_id).
  returned: when the device was found
  type: str
error:
  description: Machine-readable failure code.
  returned: failure
  type: str
  sample: device_not_ready
reasons:
  description: The failed readiness checks.
  returned: when RV(error=device_not_ready)
  type: list
  elements: str
  sample: ["platform missing", "no primary IPv4"]
line:
  description: The configuration line the device rejected, when it can be told.
  returned: when RV(error=config_rejected)
  type: str
  sample: "interface Ethernet99/1"
rolled_back:
  description:
    - How a failed commit was undone, V(rollback) (explicit NAPALM rollback) or V(timer) (the device's
      commit-confirm timer reverts it), or V(false).
  returned: when RV(error=commit_verification_failed)
  type: raw
missing_lines:
  description: Intended lines missing from the running configuration after the commit.
  returned: when the post-commit check found some missing
  type: list
  elements: str
"""

import traceback  # noqa: E402 - Ansible's layout: the documentation comes first

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import (  # noqa: E402
    GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC,
    GOLDEN_CONFIG_DEPLOY_REQUIRED_ONE_OF,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import module_result, run_batch  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError  # noqa: E402


def main():
    module = AnsibleModule(
        argument_spec=GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC,
        required_one_of=GOLDEN_CONFIG_DEPLOY_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    params = module.params
    single = bool(params.get("device")) and not params.get("devices") and not params.get("device_filter")
    try:
        batch = run_batch(params, check_mode=module.check_mode, log=module.log)
    except ProvisionError as error:
        module.fail_json(**error.to_result())
    except Exception as error:  # noqa: BLE001 - the last resort keeps the error shape
        module.fail_json(
            msg="golden_config_deploy failed unexpectedly: {0}: {1}".format(type(error).__name__, to_native(error)),
            error="unexpected",
            exception=traceback.format_exc(),
        )
    result, failed = module_result(batch, single=single)
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)
    if module._diff and single and result.get("config_diff"):
        result["diff"] = {"prepared": result["config_diff"]}
    result["check_mode"] = module.check_mode
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
