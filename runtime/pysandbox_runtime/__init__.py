"""Python side of the sandbox: zygote helpers, per-run set-up, runner and code policy."""
