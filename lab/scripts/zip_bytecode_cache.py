"""Keeps the bytecode of modules that Python imports from zip files, in the kernel lab's VMs only.

Every Ansible task runs its module from a zip (AnsiballZ), and CPython caches bytecode for files
on disk but never for zip imports: each task compiles Ansible's module_utils anew. Under the
lab's software emulation that was half of a task's time. The cache is keyed by the source's
hash; the code it returns names the file it was asked for, as a fresh compile would.
Loaded at interpreter start by zip_bytecode_cache.pth (lab/scripts/kernel-lab builds it in).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import types
import zipimport

CACHE_DIR = "/var/cache/ffmesh-zip-bytecode"

_compile_source = zipimport._compile_source  # pylint: disable=protected-access


def _renamed(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(_renamed(const, filename) if isinstance(const, types.CodeType) else const
                   for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _cached_compile(pathname: str, source: bytes) -> types.CodeType:
    path = os.path.join(CACHE_DIR, hashlib.sha256(sys.implementation.cache_tag.encode() + source).hexdigest())
    try:
        with open(path, "rb") as cached:
            return _renamed(marshal.load(cached), pathname)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = _compile_source(pathname, source)
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        # Written aside and renamed: tasks on the same VM run at the same time.
        with tempfile.NamedTemporaryFile(dir=CACHE_DIR, delete=False) as written:
            marshal.dump(code, written)
        os.replace(written.name, path)
    except OSError:
        pass
    return code


zipimport._compile_source = _cached_compile  # pylint: disable=protected-access
