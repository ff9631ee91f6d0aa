"""Copying a host file into a sandbox's own directory: one archive, sent to the parent."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import docker.errors

from sandboxes.docker_archive import copy_host_path_in


class RecordingApi:
    """Records put_archive calls; `missing` directories answer NotFound as Docker does."""

    def __init__(self, missing: set[str]) -> None:
        self.missing = missing
        self.calls: list[tuple[str, list[tuple[str, int]]]] = []

    def put_archive(self, container: str, path: str, data: object) -> bool:
        raw = data if isinstance(data, bytes) else data.read()  # type: ignore[attr-defined]
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            members = [(member.name, member.mode) for member in tar.getmembers()]
        self.calls.append((path, members))
        if path in self.missing:
            raise docker.errors.NotFound(f"{path} not found")
        self.missing -= {f"{path.rstrip('/')}/{name}" for name, _ in members}
        return True


def test_a_file_goes_into_its_directory_in_one_request(tmp_path: Path) -> None:
    bundle = tmp_path / "source.bundle"
    bundle.write_bytes(b"bundle")
    api = RecordingApi(missing=set())
    copy_host_path_in(api, "c1", str(bundle), "/tmp/taskyard")  # type: ignore[arg-type]
    assert api.calls == [("/tmp", [("taskyard", 0o755), ("taskyard/source.bundle", 0o644)])]


def test_a_missing_parent_is_created_first(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(b"pem")
    bundle.chmod(0o644)
    api = RecordingApi(missing={"/data/deep"})
    copy_host_path_in(api, "c1", str(bundle), "/data/deep/inbox")  # type: ignore[arg-type]
    paths = [path for path, _ in api.calls]
    assert paths[0] == "/data/deep" and paths[-1] == "/data/deep"
    assert api.calls[-1][1] == [("inbox", 0o755), ("inbox/ca.pem", 0o644)]
