# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: recursor_config_file
short_description: The configuration file that a PowerDNS Recursor version reads
version_added: 0.1.0
description:
  - Returns C(recursor.yml) for PowerDNS Recursor 5 or newer (YAML, Debian 13) and
    C(recursor.conf) for 4.x (C(key=value), Debian 12's 4.8), which does not read YAML.
  - An empty version (no recursor installed yet, as in check mode on a new host) returns C(recursor.yml).
options:
  _input:
    description: The recursor's version, as C(dpkg-query --showformat='${Version}' --show pdns-recursor) reports it.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Write the configuration in the format of the installed recursor
  ansible.builtin.template:
    src: "{{ config_file }}.j2"
    dest: "/freifunk/recursor/{{ config_file }}"
    mode: "0644"
  vars:
    config_file: "{{ '4.8.8-1+deb12u1' | ffmesh.gateway.recursor_config_file }}"
"""

RETURN = r"""
_value:
  description: C(recursor.yml) or C(recursor.conf).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _recursor


def recursor_config_file(version):
    try:
        return _recursor.config_file(version)
    except _recursor.RecursorVersionError as exc:
        raise AnsibleFilterError(f"recursor_config_file: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"recursor_config_file": recursor_config_file}
