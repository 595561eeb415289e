# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container runtime: image names and the command lines that run a daemon in a container.

Every daemon role runs the same daemon command line under either runtime. The native runtime
runs it as it is; the container runtime puts ``ENGINE run ...`` in front of it, with the daemon's
state directory mounted at the same path, so configuration files never differ between runtimes.
Daemons use the host's network: they create TAP devices, serve the mesh bridge or listen on
addresses the bridge has (the recursor), and what they send leaves the way the host's own
traffic does. No engine network, NAT or forwarding is involved, so restarting an engine never
changes the host's routing.

Images are tagged with a hash of their Containerfile and base image: a changed recipe gets a new
tag and is built; an unchanged one is found and reused, which keeps re-runs idempotent.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import typing as t

RUNTIMES = ("native", "container")
ENGINES = ("podman", "docker")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SPEC_KEYS = frozenset(
    ("runtime", "engine", "image", "name", "network", "capabilities", "devices",
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


NETWORKS = ("host", "none")


def _network_name(value: t.Any, key: str) -> str:
    if value not in NETWORKS:
        raise ContainerSpecError(f"{key} {value!r} must be one of {', '.join(NETWORKS)}")
    return t.cast(str, value)


def command(daemon_command: str, spec: t.Mapping[str, t.Any], check_file: str | None = None,
            check_network: str = "none", one_off: bool = False) -> str:
    """``daemon_command`` as the runtime in ``spec`` runs it.

    ``spec`` keys: runtime (native or container), engine (podman or docker), image, name,
    network (host or none), capabilities, devices, environment (dict), volumes and read_only_volumes (host paths, mounted
    at the same path), runtime_directory (the unit's RuntimeDirectory, mounted read-write).

    With ``check_file``, the line checks a configuration file instead, for the ``validate`` of a
    task that writes it: every ``%s`` in the command becomes ``check_file``, where ``%s`` is
    mounted read-only, in the same image with every volume read-only, on ``check_network`` and
    without name, capabilities, devices, environment or runtime directory.

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
        volumes, capabilities, devices, environment = [], [], [], {}
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
