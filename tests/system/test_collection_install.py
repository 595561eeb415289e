"""The collection as users get it: the tarball that ansible-galaxy builds, installed with
ansible-galaxy alone. Galaxy is not reachable from the test machines, so the install runs
--offline with the dependencies satisfied from the pip `ansible` bundle, which
requirements.txt installs; a dependency missing from the bundle fails the install."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import tarfile
from importlib import metadata

import pytest
import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from harness import BIN, ROOT

# The directory that holds the pip `ansible` bundle's ansible_collections/.
BUNDLE = pathlib.Path(str(metadata.distribution("ansible").locate_file("")))
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
NAME = f"{GALAXY['namespace']}.{GALAXY['name']}"
USER_CONTENT = ("roles", "playbooks", "plugins", "inventories")
DEV_ONLY = ("lab", "molecule", "benchmarks", "scripts", ".ci", ".venv", ".cache", ".ansible-lint", "ansible.cfg")
FQCN = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z_][a-z0-9_]*")


def _run(*argv: str, cwd: pathlib.Path, collections: pathlib.Path) -> subprocess.CompletedProcess:
    # Only the installed copy and the bundle: not the checkout, not ~/.ansible/collections.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=f"{collections}:{BUNDLE}", ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(name="installed", scope="module")
def installed_fixture(tmp_path_factory):
    """(tarball, installed collection directory, ansible-galaxy install output, work directory)"""
    work = tmp_path_factory.mktemp("install")
    collections = work / "collections"
    built = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)],
                           cwd=work, capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr
    tarball = work / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    install = _run("ansible-galaxy", "collection", "install", "--offline", str(tarball), "-p", str(collections),
                   cwd=work, collections=collections)
    assert install.returncode == 0, install.stdout + install.stderr
    return tarball, collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"], install.stdout, work


def test_tarball_has_the_users_content_and_not_the_lab(installed):
    with tarfile.open(installed[0]) as tarball:
        top = {member.name.split("/")[0] for member in tarball.getmembers()}
    assert set(USER_CONTENT) | {"meta", "tests", "README.md", "MANIFEST.json"} <= top
    assert not top & set(DEV_ONLY), top & set(DEV_ONLY)


def test_dependencies_name_every_collection_used():
    """Every FQCN under roles/, playbooks/, plugins/ and inventories/ whose collection exists
    (in the bundle) is a dependency, and every dependency is used."""
    known = {f"{ns.name}.{coll.name}" for ns in (BUNDLE / "ansible_collections").iterdir() if ns.is_dir() for coll in ns.iterdir() if coll.is_dir()}
    used = set()
    for top in USER_CONTENT:
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and path.suffix in (".yml", ".yaml", ".j2", ".py"):
                used |= {f"{ns}.{coll}" for ns, coll in FQCN.findall(path.read_text())} & known
    used -= {"ansible.builtin", NAME}
    assert used == set(GALAXY["dependencies"])


@pytest.mark.parametrize("dependency", sorted(GALAXY["dependencies"]))
def test_the_bundle_satisfies_each_dependency(installed, dependency):
    manifest = json.loads((BUNDLE / "ansible_collections" / dependency.replace(".", "/") / "MANIFEST.json").read_text())
    version = manifest["collection_info"]["version"]
    assert meets_requirements(version, GALAXY["dependencies"][dependency]), (dependency, version)
    # ansible-galaxy resolved it to the bundle's copy instead of leaving it out.
    assert f"'{dependency}:{version}' is already installed, skipping." in installed[2]


def test_requires_ansible_agrees_with_requirements():
    requirements = [Requirement(line) for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip() and not line.startswith("#")]
    core = next(requirement for requirement in requirements if requirement.name == "ansible-core")
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert SpecifierSet(runtime["requires_ansible"]) == core.specifier


def test_ansible_doc_reads_the_installed_module(installed):
    collections = installed[1].parents[2]
    doc = _run("ansible-doc", f"{NAME}.keypair", cwd=installed[3], collections=collections)
    assert doc.returncode == 0, doc.stderr
    assert f"({installed[1]}/plugins/modules/keypair.py)" in doc.stdout
    assert "Creates the private key file of a mesh VPN daemon" in doc.stdout


def test_syntax_check_finds_the_installed_playbook(installed):
    collections = installed[1].parents[2]
    (installed[3] / "hosts").write_text("[gateways]\ngw1 ansible_connection=local\n")
    checked = _run("ansible-playbook", "-i", "hosts", "--syntax-check", f"{NAME}.setup", cwd=installed[3], collections=collections)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"playbook: {installed[1]}/playbooks/setup.yml" in checked.stdout
