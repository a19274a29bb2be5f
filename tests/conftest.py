"""Shared fixtures: real workspaces with the default pack (see tests/support/)."""

pytest_plugins = ["support.e2e"]
