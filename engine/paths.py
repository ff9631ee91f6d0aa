"""Where taskyard keeps its config and state: platformdirs, or TASKYARD_HOME for both."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "taskyard"


@dataclass(frozen=True)
class Paths:
    """The directories taskyard reads and writes."""

    config_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.state_dir / "taskyard.db"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def results_dir(self) -> Path:
        return self.state_dir / "results"

    @property
    def repo_cache_dir(self) -> Path:
        return self.state_dir / "repos"

    @property
    def service_dir(self) -> Path:
        """Where the service keeps its socket, lock and log; mode 0700."""
        return self.state_dir / "service"

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    def ensure(self) -> Paths:
        """Create the directories that must exist; return self."""
        for directory in (self.config_dir, self.logs_dir, self.results_dir, self.work_dir):
            directory.mkdir(parents=True, exist_ok=True)
        return self


def default_paths() -> Paths:
    """TASKYARD_HOME/{config,state} when set, else the platform's config and state dirs."""
    home = os.environ.get("TASKYARD_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(config_dir=root / "config", state_dir=root / "state")
    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
        state_dir=Path(platformdirs.user_state_dir(APP_NAME)),
    )
