"""`python -m engine.service`: the service in the foreground (what `taskyard serve` runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.paths import Paths, default_paths
from engine.service.runner import serve_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.service")
    parser.add_argument("--config-dir", type=Path)
    parser.add_argument("--state-dir", type=Path)
    args = parser.parse_args(argv)
    paths = default_paths()
    if args.config_dir is not None and args.state_dir is not None:
        paths = Paths(config_dir=args.config_dir, state_dir=args.state_dir)
    return serve_forever(paths)


if __name__ == "__main__":
    sys.exit(main())
