# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the fabric's numbers: see plugins/modules/fabric_allocation.py for the docs."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ffmesh.gateway.plugins.module_utils import _files
from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _fabric

ARGUMENT_SPEC = {
    "store": {"type": "path", "required": True},
    "fabric": {"type": "str", "required": True},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "release": {"type": "list", "elements": "str", "default": []},
    "loopback_ipv4": {"type": "str", "required": True},
    "loopback_ipv6": {"type": "str"},
    "wireguard_ipv4": {"type": "str", "required": True},
    "asn_first": {"type": "int", "default": _fabric.PRIVATE_ASN_FIRST},
}
RECORD_HEADER = (
    "# The nodes of one routed fabric and their indices, kept by ffmesh.gateway.fabric_allocation.\n"
    "# Keep this file with the inventory (for example in git): a node's addresses and AS number\n"
    "# derive from its index. Retired nodes keep theirs until the task's release names them.\n"
)


def _load(path: str) -> _fabric.Record:
    text = _files.read_text(path)
    try:
        return _fabric.read_record(yaml.safe_load(text) if text else None)
    except yaml.YAMLError as exc:
        raise AnsibleActionFail(f"{path} is not valid YAML: {exc}") from exc
    except _fabric.FabricError as exc:
        raise AnsibleActionFail(f"{path}: {exc}") from exc


def _dump(record: _fabric.Record) -> str:
    return RECORD_HEADER + yaml.safe_dump(dict(record), default_flow_style=False, sort_keys=True)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            path = _files.record_path(args["store"], args["fabric"], "fabric", "{{ inventory_dir }}/fabric")
        except ValueError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        before = _load(path)
        settings = {key: args[key] for key in ("loopback_ipv4", "loopback_ipv6", "wireguard_ipv4", "asn_first")}
        try:
            # Templated values are str subclasses that yaml.safe_dump refuses.
            after = _fabric.allocate([str(host) for host in args["hosts"]], before, [str(host) for host in args["release"]])
            nodes = {host: _fabric.node_numbers(index, settings) for host, index in after["nodes"].items()}
        except _fabric.FabricError as exc:
            raise AnsibleActionFail(f"fabric {args['fabric']}: {exc}") from exc

        result["changed"] = after != before
        result["nodes"] = nodes
        result["record"] = path
        result["added"] = sorted(set(after["nodes"]) - set(before["nodes"]) - set(before["retired"]))
        result["retired"] = sorted(after["retired"])
        result["released"] = sorted((set(before["retired"]) | set(before["nodes"])) - set(after["nodes"]) - set(after["retired"]))
        if result["changed"] and not self._task.check_mode:
            os.makedirs(args["store"], mode=0o755, exist_ok=True)
            _files.write_atomic(path, _dump(after), 0o644)
        if self._task.diff:
            result["diff"] = {"before_header": path, "after_header": path,
                              "before": _dump(before) if before["nodes"] or before["retired"] else "", "after": _dump(after)}
        return result
