"""Execution: the runner, the sandbox, executors (local and Ray) and the workbench."""
