"""Files in and out of a container through Docker's archive (tar) API."""

from __future__ import annotations

import errno
import io
import os
import posixpath
import tarfile
import tempfile
import time
from pathlib import Path
from typing import IO

import docker.errors
from docker.api.client import APIClient

from sandboxes.base import SandboxError

GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
MAX_SYMLINK_HOPS = 8


def absolute(path: str) -> str:
    """path normalised, or SandboxError when it is not absolute."""
    if not posixpath.isabs(path):
        raise SandboxError(f"sandbox paths must be absolute, got {path!r}")
    return posixpath.normpath(path)


def read_archive_file(api: APIClient, container_id: str, path: str, hops: int = 0) -> bytes:
    """Read one regular file through the archive API, following symlinks."""
    path = absolute(path)
    try:
        chunks, stat = api.get_archive(container_id, path)
    except docker.errors.NotFound as error:
        raise FileNotFoundError(errno.ENOENT, "No such file in the sandbox", path) from error
    if stat["mode"] & GO_MODE_DIR:
        raise IsADirectoryError(errno.EISDIR, "Is a directory in the sandbox", path)
    if stat["mode"] & GO_MODE_SYMLINK and hops < MAX_SYMLINK_HOPS:
        target = posixpath.join(posixpath.dirname(path), stat["linkTarget"])
        return read_archive_file(api, container_id, target, hops + 1)
    return single_file_from_tar(b"".join(chunks), path)


def single_file_from_tar(archive: bytes, path: str) -> bytes:
    """The content of the single regular file in a tar archive."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.next()
        content = tar.extractfile(member) if member is not None and member.isfile() else None
        if content is None:
            raise IsADirectoryError(errno.EISDIR, "Not a regular file in the sandbox", path)
        return content.read()


def tar_of_file(name: str, data: bytes, mode: int) -> bytes:
    """A tar archive holding one root-owned file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tar_of_directories(relative_path: str) -> bytes:
    """A tar archive holding relative_path and each of its parents as root-owned directories."""
    buffer = io.BytesIO()
    parts = relative_path.split("/")
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for depth in range(1, len(parts) + 1):
            tar.addfile(directory_entry("/".join(parts[:depth])))
    return buffer.getvalue()


def put_archive_creating_dirs(
    api: APIClient, container_id: str, directory: str, archive: bytes | IO[bytes]
) -> None:
    """Extract archive into directory, creating the directory first if it is missing."""
    try:
        api.put_archive(container_id, directory, rewound(archive))
    except docker.errors.NotFound:
        make_directories(api, container_id, directory)
        api.put_archive(container_id, directory, rewound(archive))


def rewound(archive: bytes | IO[bytes]) -> bytes | IO[bytes]:
    """archive, read from its start again when it is a file."""
    if not isinstance(archive, bytes):
        archive.seek(0)
    return archive


def make_directories(api: APIClient, container_id: str, directory: str) -> None:
    """Create directory and its missing parents below the deepest existing ancestor."""
    ancestor = directory
    while ancestor != "/":
        ancestor = posixpath.dirname(ancestor)
        relative = posixpath.relpath(directory, ancestor)
        try:
            api.put_archive(container_id, ancestor, tar_of_directories(relative))
        except docker.errors.NotFound:
            continue
        return


def copy_host_path_in(api: APIClient, container_id: str, host_path: str, directory: str) -> None:
    """Copy a host file (or directory tree) into directory, owned by root.

    The archive holds the directory itself too and goes to its parent: one request when the
    parent exists, as it does for the sandbox's own directories."""
    parent, name = posixpath.split(directory.rstrip("/"))
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            if name:
                tar.addfile(directory_entry(name))
            arcname = posixpath.join(name, os.path.basename(host_path))
            tar.add(host_path, arcname=arcname, filter=owned_by_root)
        put_archive_creating_dirs(api, container_id, parent or "/", archive)


def directory_entry(name: str) -> tarfile.TarInfo:
    """A root-owned directory, mode 0755, as a tar member."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = int(time.time())
    return info


def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A tar member re-owned by root, as files copied into a sandbox should be."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def write_host_file(host_path: Path, data: bytes) -> None:
    """Write data to a host file, creating its parent directories."""
    host_path.parent.mkdir(parents=True, exist_ok=True)
    host_path.write_bytes(data)
