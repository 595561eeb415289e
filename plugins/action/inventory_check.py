# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the preflight: see plugins/modules/inventory_check.py for the docs."""

from __future__ import annotations

import collections.abc
import glob
import os
import typing as t

import yaml
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.action import ActionBase

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _address_plan, _inventory

ARGUMENT_SPEC = {
    "hosts": {"type": "list", "elements": "str", "required": True},
    "mesh": {"type": "dict", "required": True},
    "seed_order": {"type": "list", "elements": "str"},
}
COLLECTION_DIR = os.path.join(os.path.dirname(__file__), "..", "..")


def role_options() -> t.Set[str]:
    """The options of every entry point of every role of this collection."""
    options: t.Set[str] = set()
    for path in glob.glob(os.path.join(COLLECTION_DIR, "roles", "*", "meta", "argument_specs.yml")):
        with open(path, encoding="utf-8") as spec_file:
            specs = (yaml.safe_load(spec_file) or {}).get("argument_specs", {})
        for entry_point in specs.values():
            options.update((entry_point or {}).get("options", {}))
    return options


def _task_results(tasks: t.Any) -> t.Iterator[str]:
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        if isinstance(task.get("register"), str):
            yield task["register"]
        for action in ("ansible.builtin.set_fact", "set_fact"):
            if isinstance(task.get(action), dict):
                yield from task[action]
        for section in ("block", "rescue", "always", "tasks"):
            yield from _task_results(task.get(section))


def registered_variables() -> t.Set[str]:
    """What the collection's roles (tasks and handlers) and playbooks register or set as facts: after setup.yml
    they are host variables too."""
    names: t.Set[str] = set()
    for path in (glob.glob(os.path.join(COLLECTION_DIR, "roles", "*", "tasks", "*.yml"))
                 + glob.glob(os.path.join(COLLECTION_DIR, "roles", "*", "handlers", "*.yml"))
                 + glob.glob(os.path.join(COLLECTION_DIR, "playbooks", "*.yml"))):
        with open(path, encoding="utf-8") as tasks_file:
            names.update(name for name in _task_results(yaml.safe_load(tasks_file)) if name.startswith(_inventory.PREFIX))
    return names


class _HostVariables(collections.abc.Mapping):
    """A host's freifunk_* variables, each templated when it is read, with its group index set."""

    def __init__(self, host: str, raw: t.Mapping[str, t.Any], templar: t.Any) -> None:
        self._host, self._raw, self._templar = host, raw, templar
        self._names = sorted(name for name in raw if name.startswith(_inventory.PREFIX))

    def __getitem__(self, name: str) -> t.Any:
        if name not in self._names:
            raise KeyError(name)
        try:
            return self._templar.template(self._raw[name])
        except AnsibleError as exc:
            raise _inventory.InventoryError(f"host {self._host}: {name} cannot be evaluated: {exc.message}") from exc

    def __iter__(self) -> t.Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not _inventory.HAS_NETADDR:
            raise AnsibleActionFail(missing_required_lib("netaddr"))
        hosts = [str(host) for host in args["hosts"]]
        hostvars = task_vars["hostvars"]
        raw = {host: hostvars.raw_get(host) for host in hosts}
        try:
            stated = {host: self._templar.template(raw[host][_inventory.INDEX_VAR])
                      for host in hosts if _inventory.INDEX_VAR in raw[host]}
            indexes, notes = _inventory.group_indexes(hosts, stated, args["seed_order"])
            plans = _address_plan.check_inventory(args["mesh"], indexes)
            variables = {}
            for host in hosts:
                templar = self._templar.copy_with_new_env(
                    available_variables={**raw[host], _inventory.INDEX_VAR: indexes[host]})
                variables[host] = _HostVariables(host, raw[host], templar)
            known = _inventory.known_variables(role_options() | registered_variables())
            for host in hosts:
                if _inventory.DHCP_RANGE_VAR in variables[host]:
                    plans[host]["dhcp_range"] = _inventory.seed_dhcp_range(variables[host][_inventory.DHCP_RANGE_VAR])
                notes += _inventory.check_host(host, variables[host], plans[host], known,
                                               str(variables[host].get("freifunk_mesh_mode", "batman")))
            _inventory.check_dhcp_ranges(plans)
            uplinks = {host: _inventory.uplink_in_effect(host, variables[host]) for host in hosts}
            names = _inventory.tinc_names(
                hosts,
                {host: variables[host][_inventory.TINC_NAME_VAR] for host in hosts if _inventory.TINC_NAME_VAR in variables[host]},
                {host: host.split(".")[0] for host in hosts},
            )
        except (_inventory.InventoryError, _address_plan.AddressPlanError) as exc:
            raise AnsibleActionFail(f"preflight: {exc}") from exc
        result["changed"] = False
        result["hosts"] = {
            host: {"group_index": indexes[host], "tinc_name": names[host], "dhcp_range": plans[host]["dhcp_range"],
                   "gateway_ipv4": plans[host]["gateway_ipv4"], "uplink": uplinks[host]}
            for host in hosts
        }
        result["notes"] = notes
        if notes:
            result["warnings"] = notes
        return result
