"""Where things live inside a task's sandbox."""

from __future__ import annotations

REPO_DIR = "/workspace/repo"
"""The repository checkout the agent works in."""
INBOX_DIR = "/tmp/taskyard"
"""Bundles and scripts taskyard hands in or takes out."""
CA_DIR = "/etc/taskyard"
"""The environment's CA bundle, when it names one."""
