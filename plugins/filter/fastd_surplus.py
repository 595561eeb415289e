# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fastd_surplus
short_description: fastd instances that are configured beyond the wanted number
version_added: 0.1.0
description:
  - Takes the paths of the configuration files found in fastd's directory (C(fastd-K.conf) for
    instance K) and returns the instances whose number is O(instances) or more, so that they can
    be stopped and their files removed when the number of instances shrinks.
  - Files whose name is not C(fastd-K.conf) are not instances and are left out.
positional: instances
options:
  _input:
    description: Paths of the configuration files found, for example from M(ansible.builtin.find).
    type: list
    elements: path
    required: true
  instances:
    description: The number of instances wanted; instances 0 to O(instances) - 1 stay.
    type: int
    required: true
  interface_prefix:
    description: The instances' TAP interfaces are this prefix followed by the instance number.
    type: str
    default: fastd
"""

EXAMPLES = r"""
- name: Find the configurations
  ansible.builtin.find:
    paths: /freifunk/fastd
    patterns: fastd-*.conf
  register: configs

- name: Remove the configurations of instances beyond the second
  ansible.builtin.file:
    path: "{{ item.config }}"
    state: absent
  loop: "{{ configs.files | map(attribute='path') | ffmesh.gateway.fastd_surplus(2) }}"
"""

RETURN = r"""
_value:
  description: One entry per surplus instance, by instance number.
  type: list
  elements: dict
  contains:
    instance:
      description: The instance number.
      type: int
      sample: 2
    config:
      description: The path of its configuration file, as found.
      type: str
      sample: /freifunk/fastd/fastd-2.conf
    interface:
      description: Its TAP interface.
      type: str
      sample: fastd2
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _fastd


def fastd_surplus(config_paths, instances, interface_prefix="fastd"):
    try:
        return _fastd.surplus(config_paths, instances, interface_prefix)
    except _fastd.FastdInstanceError as exc:
        raise AnsibleFilterError(f"fastd_surplus: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"fastd_surplus": fastd_surplus}
