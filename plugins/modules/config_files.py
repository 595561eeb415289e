#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write the files one daemon reads, checked together, in one step
version_added: 0.1.0
description:
  - Writes several files whose content the controller rendered, usually with
    C(lookup('ansible.builtin.template', ...)), in one module call. A template task costs two
    calls on the host for each file even when nothing changed (a checksum, then the file's
    attributes); a role's handful of files costs one call here.
  - Every file whose content differs is first written beside its destination and checked with
    its O(files[].validate) command. Only when every check has passed are the new files moved
    into place, each atomically. A bad file leaves all of them as they were.
  - Owner, group and mode are set on every listed file, changed or not. Files listed as
    absent are removed after the checks, with the others.
  - The files' directories must exist (in check mode, a missing one means the files would be new).
  - Not for secrets. The content is part of the task's arguments and of its diff; keys are
    written by M(ffmesh.gateway.keypair).
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  check_mode:
    support: full
    description: Reports what would change; the O(files[].validate) commands do not run.
  diff_mode:
    support: full
    description: One diff per file whose content changes.
  idempotent:
    support: full
    description: Only files whose content or attributes differ are changed.
options:
  files:
    description: The files, written in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Where the file goes.
        type: path
        required: true
      content:
        description: The whole content, as text. Required unless O(files[].state=absent).
        type: str
      mode:
        description: Permissions, in octal, for example C("0644"). Required unless O(files[].state=absent).
        type: str
      state:
        description: C(absent) removes the file (a file the configuration no longer uses).
        type: str
        choices: [present, absent]
        default: present
      owner:
        description: The owning user.
        type: str
        default: root
      group:
        description: The owning group.
        type: str
        default: root
      validate:
        description:
          - A command that checks the new file before it replaces the old one; C(%s) stands for
            the new file's path. It runs without a shell.
        type: str
seealso:
  - module: ansible.builtin.template
  - module: ffmesh.gateway.keypair
"""

EXAMPLES = r"""
- name: Write the recursor's configuration, its hosts file and its unit
  ffmesh.gateway.config_files:
    files:
      - path: /freifunk/recursor/recursor.conf
        content: "{{ lookup('ansible.builtin.template', 'recursor.conf.j2') }}"
        mode: "0644"
        validate: pdns_recursor --config-dir=%s --config=check
      - path: /freifunk/recursor/hosts
        content: "{{ lookup('ansible.builtin.template', 'hosts.j2') }}"
        mode: "0644"
      - path: /freifunk/recursor/recursor.yml
        state: absent
      - path: /etc/systemd/system/ffmesh-recursor.service
        content: "{{ lookup('ansible.builtin.template', 'ffmesh-recursor.service.j2') }}"
        mode: "0644"
  notify: Restart recursor
"""

RETURN = r"""
changed_paths:
  description: The files whose content, owner, group or mode changed, or that were removed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/ffmesh-recursor.service]
"""

import grp
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ffmesh.gateway.plugins.module_utils import _files

FILE_SPEC = {
    "path": {"type": "path", "required": True},
    "content": {"type": "str"},
    "mode": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
    "validate": {"type": "str"},
}


def current_bytes(module: AnsibleModule, path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        module.fail_json(msg=f"{path}: cannot be read as a file ({exc.strerror}); nothing was written")
    return None


def owner_ids(module: AnsibleModule, spec: dict) -> tuple[int, int]:
    try:
        return pwd.getpwnam(spec["owner"]).pw_uid, grp.getgrnam(spec["group"]).gr_gid
    except KeyError:
        module.fail_json(msg=f"{spec['path']}: no user {spec['owner']!r} or no group {spec['group']!r} on the host; nothing was written")
    return -1, -1


def check(module: AnsibleModule, spec: dict, temporary: str) -> None:
    if "%s" not in spec["validate"]:
        module.fail_json(msg=f"{spec['path']}: validate must contain %s, where the new file's path goes")
    rc, out, err = module.run_command(spec["validate"] % temporary)
    if rc != 0:
        module.fail_json(msg=f"{spec['path']}: the new content failed its check ({spec['validate']}), nothing was written",
                         rc=rc, stdout=out, stderr=err)


def main() -> None:
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True, "options": FILE_SPEC}},
        supports_check_mode=True,
    )
    files = [spec for spec in module.params["files"] if spec["state"] == "present"]
    absent = [spec["path"] for spec in module.params["files"] if spec["state"] == "absent"]
    for spec in files:
        if spec["content"] is None or spec["mode"] is None:
            module.fail_json(msg=f"{spec['path']}: content and mode are required unless state is absent")
        if not re.fullmatch(r"0?[0-7]{3,4}", spec["mode"]):
            module.fail_json(msg=f"{spec['path']}: mode {spec['mode']!r} is not an octal mode such as 0644")
        # In check mode on a new host the tasks before have made no directory.
        if not module.check_mode and not os.path.isdir(os.path.dirname(spec["path"]) or "."):
            module.fail_json(msg=f"{spec['path']}: its directory does not exist")
    for path in absent:
        if os.path.isdir(path) and not os.path.islink(path):
            module.fail_json(msg=f"{path}: is a directory, not a file to remove; nothing was written")
    ids = {spec["path"]: owner_ids(module, spec) for spec in files}

    # Which contents change; their new files are written aside and all checked before any moves.
    current = {spec["path"]: current_bytes(module, spec["path"]) for spec in files}
    rewritten = [spec for spec in files if current[spec["path"]] != spec["content"].encode("utf-8")]
    diffs = [
        {"before_header": spec["path"], "after_header": spec["path"],
         "before": (current[spec["path"]] or b"").decode("utf-8", errors="replace"), "after": spec["content"]}
        for spec in rewritten
    ]
    removed = [path for path in absent if os.path.lexists(path)]
    diffs += [{"before_header": path, "after_header": path,
               "before": (current_bytes(module, path) or b"").decode("utf-8", errors="replace"), "after": ""}
              for path in removed if os.path.isfile(path)]
    temporaries: dict[str, str] = {}
    if not module.check_mode:
        try:
            for spec in rewritten:
                # Owner, group and mode from the first byte on: the daemon never sees the new file otherwise.
                temporaries[spec["path"]] = _files.write_temporary(spec["path"], spec["content"], int(spec["mode"], 8),
                                                                   owner=ids[spec["path"]])
                if spec["validate"]:
                    check(module, spec, temporaries[spec["path"]])
            for spec in rewritten:
                os.replace(temporaries[spec["path"]], spec["path"])
                del temporaries[spec["path"]]
            for path in removed:
                os.unlink(path)
        finally:
            for temporary in temporaries.values():
                os.unlink(temporary)

    changed_paths = [spec["path"] for spec in rewritten] + removed
    for spec in files:
        if spec["path"] in changed_paths and module.check_mode:
            continue
        path = spec["path"]
        changed = module.set_owner_if_different(path, spec["owner"], False)
        changed = module.set_group_if_different(path, spec["group"], changed)
        changed = module.set_mode_if_different(path, spec["mode"], changed)
        if changed and path not in changed_paths:
            changed_paths.append(path)
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
