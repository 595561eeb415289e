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


def test_a_file_that_grows_while_tar_reads_it_is_kept_as_read(tmp_path, require):
    # As Kea's lease file does: tar exits 1 for it ("file changed as we read it").
    require("tar")
    state, backups = tmp_path / "freifunk", tmp_path / "backups"
    (state / "dhcpd").mkdir(parents=True)
    leases = state / "dhcpd" / "dhcp4.leases"
    leases.write_bytes(b"10.186.16.1,02:00:00:00:00:01\n" * 400_000)
    writer = subprocess.Popen(["sh", "-c", f"while :; do echo 10.186.16.2,02:00:00:00:00:02 >> {leases}; done"])
    try:
        result = subprocess.run([str(SCRIPT)], env=dict(os.environ, FFMESH_BACKUP_SOURCE=str(state), FFMESH_BACKUP_DIR=str(backups),
                                                        FFMESH_BACKUP_KEEP="2"), capture_output=True, text=True, check=False)
    finally:
        writer.kill()
        writer.wait()
    assert result.returncode == 0, result.stderr
    (archive,) = backups.glob("*.tar.gz")
    with tarfile.open(archive) as opened:
        assert "./dhcpd/dhcp4.leases" in opened.getnames()


def test_a_backup_that_fails_leaves_no_partial_archive(tmp_path, require):
    require("tar")
    backups = tmp_path / "backups"
    result = subprocess.run([str(SCRIPT)], env=dict(os.environ, FFMESH_BACKUP_SOURCE=str(tmp_path / "missing"), FFMESH_BACKUP_DIR=str(backups),
                                                    FFMESH_BACKUP_KEEP="2"), capture_output=True, text=True, check=False)
    assert result.returncode == 2, result.stderr
    assert list(backups.iterdir()) == []
