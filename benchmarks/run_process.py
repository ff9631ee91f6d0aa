"""`taskyard run --json`, the whole process, from exec to the first agent command.

With the service warm (already running) and cold (stopped before each run), against a bare
`docker run --rm IMAGE true` of the same image measured in the same run. The model is the
scripted server. Goal: warm at most 1.5x the floor; cold is reported.

    .venv/bin/python benchmarks/run_process.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import DEFAULT_IMAGE
from tests.support.cli import model_env
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo

TASKYARD = str(Path(sys.executable).with_name("taskyard"))


def bare_docker_run(image: str) -> float:
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", image, "true"], check=True, capture_output=True)
    return time.perf_counter() - started


def first_agent_command(repo: Path, env: dict[str, str]) -> float:
    """Seconds from exec of `taskyard run --json` to its first agent command.started line;
    the process is then left to finish."""
    argv = [TASKYARD, "run", "--json", "--repo", str(repo), "run true"]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    elapsed = None
    for line in process.stdout:
        event = json.loads(line)
        started_agent = event.get("type") == "command.started" and event.get("phase") == "agent"
        if elapsed is None and started_agent:
            elapsed = time.perf_counter() - started
    if process.wait() != 0 or elapsed is None:
        raise SystemExit(f"taskyard run failed (exit {process.returncode})")
    return elapsed


def stop_service(env: dict[str, str]) -> None:
    subprocess.run([TASKYARD, "serve", "stop"], check=True, capture_output=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args()
    script = [Reply(tool_calls=[Call("shell", {"command": ["true"]})]), Reply(text="done")]
    conversations = [script] * (2 * args.runs + 1)
    with (
        tempfile.TemporaryDirectory() as tmp,
        ScriptedModelServer(conversations=conversations) as server,
    ):
        repo = make_calc_repo(Path(tmp) / "repo")
        env = model_env(server, Path(tmp) / "home", "chat")
        bare_docker_run(args.image)
        first_agent_command(repo, env)
        floors, warm, cold = [], [], []
        for _ in range(args.runs):
            floors.append(bare_docker_run(args.image))
            warm.append(first_agent_command(repo, env))
            stop_service(env)
            cold.append(first_agent_command(repo, env))
        stop_service(env)
    floor = statistics.median(floors)
    print(f"runs: {args.runs} (median of each, then the range; image {args.image})")
    print(
        f"floor: docker run --rm IMAGE true                {floor * 1000:6.0f} ms  {spread(floors)}"
    )
    for name, times in (("warm", warm), ("cold", cold)):
        median = statistics.median(times)
        goal = " (goal <= 1.50x)" if name == "warm" else ""
        print(
            f"taskyard run --json -> first agent command, {name} {median * 1000:6.0f} ms"
            f"  {median / floor:.2f}x{goal}  {spread(times)}"
        )
    ratios = [time / same_round for time, same_round in zip(warm, floors, strict=True)]
    print(f"warm / floor of the same round: {' '.join(f'{ratio:.2f}' for ratio in sorted(ratios))}")


def spread(times: list[float]) -> str:
    """The range of the figures, in ms."""
    return f"[{min(times) * 1000:.0f}-{max(times) * 1000:.0f}]"


if __name__ == "__main__":
    main()
