"""Makes the checkout importable and runnable as the collection ffmesh.gateway."""

from __future__ import annotations

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "ffmesh" / "gateway"

LINK.parent.mkdir(parents=True, exist_ok=True)
if not LINK.is_symlink():
    LINK.symlink_to(ROOT, target_is_directory=True)
sys.path.insert(0, str(COLLECTIONS))
os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
