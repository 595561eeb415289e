"""The backup role's script (ffmesh-backup) as its timer runs it: dated archives of the state
directory that only root reads, the newest kept, and the copy elsewhere with rsync."""

from __future__ import annotations

import os
import stat
import subprocess
import tarfile
import time

from harness import ROOT

SCRIPT = ROOT / "roles" / "backup" / "files" / "ffmesh-backup"


def test_archives_rotate_and_the_copy_follows(tmp_path, require):
    require("tar", "rsync")
    state = tmp_path / "freifunk"
    (state / "fastd").mkdir(parents=True)
    (state / "fastd" / "secret.conf").write_text('secret "0123";\n')
    (state / "dhcpd").mkdir()
    (state / "dhcpd" / "dhcp4.leases").write_text("address,hwaddr\n")
    backups, copy = tmp_path / "backups", tmp_path / "elsewhere"
    copy.mkdir()
    env = dict(os.environ, FFMESH_BACKUP_SOURCE=str(state), FFMESH_BACKUP_DIR=str(backups), FFMESH_BACKUP_KEEP="2",
               FFMESH_BACKUP_RSYNC_TARGET=f"{copy}/", FFMESH_BACKUP_RSYNC_SSH_OPTIONS="")
    outputs = []
    for run in range(3):
        if run:
            time.sleep(1.1)  # the archives are named to the second
        outputs.append(subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, check=True).stdout)
    archives = sorted(backups.glob("*.tar.gz"))
    assert len(archives) == 2 and "2 archive(s) kept" in outputs[-1]
    assert all(stat.S_IMODE(archive.stat().st_mode) == 0o600 for archive in archives)
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    with tarfile.open(archives[-1]) as archive:
        assert {"./fastd/secret.conf", "./dhcpd/dhcp4.leases"} <= set(archive.getnames())
    assert sorted(path.name for path in copy.glob("*.tar.gz")) == [archive.name for archive in archives]
    assert not list(backups.glob("*.part"))
