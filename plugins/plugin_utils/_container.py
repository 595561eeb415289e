# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container runtime: image names and the command lines that run a daemon in a container.

Every daemon role runs the same daemon command line under either runtime. The native runtime
runs it as it is; the container runtime puts ``ENGINE run ...`` in front of it, with the daemon's
state directory mounted at the same path, so configuration files never differ between runtimes.
Daemons that create TAP devices or serve the mesh bridge use the host's network; a service with
a mesh address of its own (the recursor) joins the engine's network on the mesh bridge, the
seed's ``freifunk-net``, which :func:`podman_network` describes.

Images are tagged with a hash of their Containerfile and base image: a changed recipe gets a new
tag and is built; an unchanged one is found and reused, which keeps re-runs idempotent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import shlex
import typing as t

RUNTIMES = ("native", "container")
ENGINES = ("podman", "docker")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SPEC_KEYS = frozenset(
    ("runtime", "engine", "image", "name", "network", "addresses", "capabilities", "devices",
     "environment", "volumes", "read_only_volumes", "runtime_directory")
)


class ContainerSpecError(ValueError):
    """A container description that cannot make a command line."""


def image_reference(service: str, containerfile: str, base_image: str) -> dict[str, str]:
    """Name, tag and full reference of a service's image built FROM ``base_image``."""
    if not _NAME.match(service):
        raise ContainerSpecError(f"service name {service!r} must be lower-case letters, digits, '.', '_' or '-'")
    if not base_image or any(c.isspace() for c in base_image):
        raise ContainerSpecError(f"base image {base_image!r} must be an image reference without spaces")
    digest = hashlib.sha256(f"{containerfile}\0{base_image}".encode()).hexdigest()[:12]
    name = f"localhost/ffmesh-{service}"
    return {"name": name, "tag": digest, "ref": f"{name}:{digest}", "base_image": base_image}


def _strings(spec: t.Mapping[str, t.Any], key: str) -> list[str]:
    value = spec.get(key) or []
    if isinstance(value, str) or not all(isinstance(item, str) and item for item in value):
        raise ContainerSpecError(f"{key} must be a list of non-empty strings, not {value!r}")
    return list(value)


def _absolute(paths: list[str], key: str) -> list[str]:
    for path in paths:
        if not path.startswith("/") or ":" in path:
            raise ContainerSpecError(f"{key}: {path!r} must be an absolute path without ':'")
    return paths


def _network_name(value: t.Any, key: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ContainerSpecError(f"{key} {value!r} must be host, none or an engine network's name")
    return value


def _addresses(spec: t.Mapping[str, t.Any], network: str) -> list[str]:
    addresses = _strings(spec, "addresses")
    if addresses and network in ("host", "none"):
        raise ContainerSpecError(f"addresses need an engine network, not network {network!r}")
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise ContainerSpecError(f"addresses: {address!r} is not an IP address") from exc
    return addresses


def command(daemon_command: str, spec: t.Mapping[str, t.Any], check_file: str | None = None,
            check_network: str = "none", one_off: bool = False) -> str:
    """``daemon_command`` as the runtime in ``spec`` runs it.

    ``spec`` keys: runtime (native or container), engine (podman or docker), image, name,
    network (host, none or an engine network), addresses (the container's own on that network),
    capabilities, devices, environment (dict), volumes and read_only_volumes (host paths, mounted
    at the same path), runtime_directory (the unit's RuntimeDirectory, mounted read-write).

    With ``check_file``, the line checks a configuration file instead, for the ``validate`` of a
    task that writes it: every ``%s`` in the command becomes ``check_file``, where ``%s`` is
    mounted read-only, in the same image with every volume read-only, on ``check_network`` and
    without name, addresses, capabilities, devices, environment or runtime directory.

    With ``one_off``, the line runs ``daemon_command`` once in the same image as a check runs,
    without a file: to ask the image something (the version of its daemon) while the daemon runs.
    """
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ContainerSpecError(f"unknown keys {', '.join(sorted(unknown))}; known: {', '.join(sorted(_SPEC_KEYS))}")
    runtime = spec.get("runtime", "native")
    if runtime not in RUNTIMES:
        raise ContainerSpecError(f"runtime {runtime!r} must be one of {', '.join(RUNTIMES)}")
    if check_file is not None:
        if "%s" not in daemon_command:
            raise ContainerSpecError("check_file needs a command with %s where the file goes")
        if not isinstance(check_file, str):
            raise ContainerSpecError(f"check_file {check_file!r} must be an absolute path")
        _absolute([check_file], "check_file")
    if runtime == "native":
        return daemon_command
    engine = spec.get("engine", "podman")
    if engine not in ENGINES:
        raise ContainerSpecError(f"engine {engine!r} must be one of {', '.join(ENGINES)}")
    image = spec.get("image")
    if not isinstance(image, str) or not image or any(c.isspace() for c in image):
        raise ContainerSpecError(f"image {image!r} must be an image reference without spaces")
    network = _network_name(spec.get("network", "host"), "network")
    addresses = _addresses(spec, network)
    volumes = _absolute(_strings(spec, "volumes"), "volumes")
    read_only_volumes = _absolute(_strings(spec, "read_only_volumes"), "read_only_volumes")
    runtime_directory = spec.get("runtime_directory")
    if runtime_directory is not None:
        if not isinstance(runtime_directory, str):
            raise ContainerSpecError(f"runtime_directory {runtime_directory!r} must be an absolute path")
        _absolute([runtime_directory], "runtime_directory")
    name = spec.get("name")
    if name is not None and (not isinstance(name, str) or not _NAME.match(name.replace("%", ""))):
        # systemd specifiers such as %i may follow the fixed part of the name.
        raise ContainerSpecError(f"name {name!r} must be lower-case letters, digits, '.', '_' or '-'")
    capabilities = _strings(spec, "capabilities")
    devices = _absolute(_strings(spec, "devices"), "devices")
    environment = spec.get("environment") or {}
    if not isinstance(environment, t.Mapping):
        raise ContainerSpecError(f"environment must be a dict, not {environment!r}")

    if check_file is not None or one_off:
        network = _network_name(check_network, "check_network")
        read_only_volumes = volumes + read_only_volumes
        volumes, addresses, capabilities, devices, environment = [], [], [], [], {}
        name = runtime_directory = None

    argv = [f"/usr/bin/{engine}", "run", "--rm", "--network", network]
    if engine == "podman":
        # podman run is attached: the output reaches the unit's journal once, not twice.
        argv += ["--log-driver", "none"]
    else:
        # Docker's default open-files limit can be 2^30 (Debian's docker.io 26.1.5): fastd then
        # spent over 20 minutes of CPU in --verify-config. systemd's service limits instead.
        argv += ["--ulimit", "nofile=1024:524288"]
    if name is not None:
        argv += ["--name", name]
        if engine == "podman":
            # A container left over from a crash must not block the next start.
            argv.append("--replace")
    for address in addresses:
        argv += ["--ip6" if ":" in address else "--ip", address]
    for capability in capabilities:
        argv += ["--cap-add", capability]
    for device in devices:
        argv += ["--device", device]
    for key in sorted(environment):
        argv += ["--env", f"{key}={environment[key]}"]
    for path in volumes + ([runtime_directory] if runtime_directory else []):
        argv += ["--volume", f"{path}:{path}"]
    for path in read_only_volumes:
        argv += ["--volume", f"{path}:{path}:ro"]
    if check_file is not None:
        argv += ["--volume", f"%s:{check_file}:ro"]
        daemon_command = daemon_command.replace("%s", check_file)
    argv.append(image)
    return " ".join(shlex.quote(arg) for arg in argv) + " " + daemon_command


PODMAN_NETWORK_BACKENDS = ("netavark", "cni")
# netavark's bridge mode "unmanaged" came with netavark 1.14, which Podman 5.4 needs.
_UNMANAGED_BRIDGE_PODMAN = (5, 4)


def _version(value: str) -> tuple[int, ...]:
    match = re.match(r"^(\d+)\.(\d+)", value.strip())
    if not match:
        raise ContainerSpecError(f"podman version {value!r} is not a version such as 5.4.2")
    return tuple(int(part) for part in match.groups())


def _mesh_subnets(subnets: t.Sequence[t.Mapping[str, t.Any]]) -> list[tuple[t.Any, t.Any, t.Any]]:
    if not subnets:
        raise ContainerSpecError("a network needs at least one subnet")
    checked = []
    for entry in subnets:
        try:
            subnet = ipaddress.ip_network(str(entry["subnet"]))
            gateway = ipaddress.ip_address(str(entry["gateway"]))
            iprange = ipaddress.ip_network(str(entry["iprange"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ContainerSpecError(f"subnet entry {dict(entry)!r} needs subnet, gateway and iprange: {exc}") from exc
        if gateway not in subnet or not iprange.subnet_of(subnet):  # type: ignore[arg-type]
            raise ContainerSpecError(f"gateway {gateway} and iprange {iprange} must be in subnet {subnet}")
        if gateway in iprange:
            raise ContainerSpecError(f"iprange {iprange} must not hold the gateway {gateway}")
        checked.append((subnet, gateway, iprange))
    return checked


def podman_network(name: str, interface: str, subnets: t.Sequence[t.Mapping[str, t.Any]],
                   labels: t.Mapping[str, str] | None = None, backend: str = "netavark",
                   podman_version: str | None = None) -> dict[str, t.Any]:
    """Podman's definition of an engine network on an existing bridge that podman leaves alone.

    ``subnets``: each with ``subnet`` (the mesh network), ``gateway`` (this host's address on the
    bridge, the containers' default route) and ``iprange``, the only addresses the network gives
    to containers: the rest of the subnet belongs to the mesh (DHCP pools, other gateways). These
    are the keys of Docker's ``ipam_config`` too, so one list describes the network to both.

    ``podman network create`` refuses a subnet that the host's bridge already has
    (containers/common#2322), which on a mesh bridge it always does; podman reads the definition
    from its networks directory instead, in the format of its network ``backend``:

    - ``netavark`` (Podman 5, Debian 13): ``/etc/containers/networks/NAME.json`` in bridge mode
      ``unmanaged`` (netavark 1.14, podman 5.4), which attaches containers with a veth and sets
      their addresses, but changes neither the bridge, nor sysctls, nor the firewall. Older
      netavark has no such mode: with ``podman_version`` below 5.4 this is an error.
    - ``cni`` (Podman 4, Debian 12's default): ``/etc/cni/net.d/NAME.conflist`` with the bridge
      plugin alone, ``isGateway`` and ``ipMasq`` off (neither an address on the bridge nor
      forwarding sysctls) and no firewall, portmap or tuning plugin: the same effect.
    """
    if not _NAME.match(name):
        raise ContainerSpecError(f"network name {name!r} must be lower-case letters, digits, '.', '_' or '-'")
    if not isinstance(interface, str) or not re.match(r"^[A-Za-z0-9_.-]{1,15}$", interface):
        raise ContainerSpecError(f"interface {interface!r} must be a network interface name")
    if backend not in PODMAN_NETWORK_BACKENDS:
        raise ContainerSpecError(f"network backend {backend!r} must be one of {', '.join(PODMAN_NETWORK_BACKENDS)}")
    if backend == "netavark" and podman_version is not None and _version(podman_version) < _UNMANAGED_BRIDGE_PODMAN:
        raise ContainerSpecError(
            f"podman {podman_version} with netavark cannot attach containers to the existing bridge {interface} "
            "without managing it (netavark's unmanaged bridge needs podman 5.4); "
            'use the CNI backend (network_backend = "cni" in containers.conf, as Debian 12 does) or podman 5.4')
    checked = _mesh_subnets(subnets)
    if backend == "cni":
        return _cni_network(name, interface, checked, labels)
    definitions = [{
        "subnet": str(subnet),
        "gateway": str(gateway),
        "lease_range": {"start_ip": str(iprange[0]), "end_ip": str(iprange[-1])},
    } for subnet, gateway, iprange in checked]
    return {
        "name": name,
        "id": hashlib.sha256(name.encode()).hexdigest(),
        "driver": "bridge",
        "network_interface": interface,
        "subnets": definitions,
        "ipv6_enabled": any(":" in d["subnet"] for d in definitions),
        "internal": False,
        "dns_enabled": False,
        "options": {"mode": "unmanaged"},
        "ipam_options": {"driver": "host-local"},
        "labels": dict(labels or {}),
    }


def _cni_network(name: str, interface: str, subnets: list[tuple[t.Any, t.Any, t.Any]],
                 labels: t.Mapping[str, str] | None) -> dict[str, t.Any]:
    # host-local gives out rangeStart..rangeEnd; a route without "gw" goes via the range's gateway.
    ranges = [[{"subnet": str(subnet), "gateway": str(gateway),
                "rangeStart": str(iprange[0]), "rangeEnd": str(iprange[-1])}]
              for subnet, gateway, iprange in subnets]
    routes = [{"dst": "::/0" if entry[0].version == 6 else "0.0.0.0/0"} for entry in subnets]
    return {
        "cniVersion": "0.4.0",
        "name": name,
        "plugins": [{
            "type": "bridge",
            "bridge": interface,
            "isGateway": False,
            "ipMasq": False,
            "hairpinMode": False,
            "ipam": {"type": "host-local", "routes": routes, "ranges": ranges},
            # podman passes --ip through the "ips" capability.
            "capabilities": {"ips": True},
        }],
        "args": {"podman_labels": dict(labels or {})},
    }
