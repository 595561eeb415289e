# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the key exchange: see plugins/modules/public_key_store.py for the docs."""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.ffmesh.gateway.plugins.module_utils import _files, _keys, _peers

ARGUMENT_SPEC = {
    "store": {"type": "path", "required": True},
    "mesh": {"type": "str", "required": True},
    "key_type": {"type": "str", "required": True, "choices": list(_keys.KEY_TYPES)},
    "keys": {"type": "dict", "required": True},
    "members": {"type": "list", "elements": "str", "required": True},
}
RECORD_HEADER = (
    "# Public keys of the hosts of one mesh, kept by ffmesh.gateway.public_key_store.\n"
    "# Keep this file with the inventory (for example in git): runs with --limit read the\n"
    "# keys of the other hosts from here.\n"
)


def _load(path: str, key_type: str) -> dict:
    text = _files.read_text(path)
    if text is None:
        return {}
    try:
        record = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise AnsibleActionFail(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(record, dict) or not all(isinstance(v, str) for v in record.values()):
        raise AnsibleActionFail(f"{path} must map host names to {key_type} public keys")
    return record


def _dump(record: dict) -> str:
    return RECORD_HEADER + yaml.safe_dump(record, default_flow_style=False, sort_keys=True)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            path = _files.record_path(args["store"], args["mesh"], "mesh", "{{ inventory_dir }}/public_keys")
        except ValueError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        before = _load(path, args["key_type"])
        try:
            # Templated values are str subclasses that yaml.safe_dump refuses, e.g. groups['gateways'].
            after, pending = _peers.merge_key_record(
                args["key_type"],
                before,
                # None: the key is made only when check mode is off.
                {str(host): None if key is None else str(key) for host, key in args["keys"].items()},
                [str(member) for member in args["members"]],
                self._task.check_mode,
            )
        except _peers.PeerError as exc:
            raise AnsibleActionFail(f"mesh {args['mesh']}: {exc}") from exc

        result["changed"] = after != before or bool(pending)
        result["pending"] = pending
        result["peers"] = after
        result["record"] = path
        result["added"] = sorted(set(after) - set(before))
        result["removed"] = sorted(set(before) - set(after))
        result["updated"] = sorted(host for host in set(after) & set(before) if after[host] != before[host])
        if result["changed"] and not self._task.check_mode:
            os.makedirs(args["store"], mode=0o755, exist_ok=True)
            _files.write_atomic(path, _dump(after), 0o644)
        if self._task.diff:
            result["diff"] = {"before_header": path, "after_header": path,
                              "before": _dump(before) if before else "", "after": _dump(after)}
        return result
