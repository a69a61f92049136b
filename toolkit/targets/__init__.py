"""Naming and reaching a target: one address syntax for every command, the rules for what may go
into an SSH address or config, and the context that makes a target reachable for a probe.
Below executors, verify, gpu and commands; imports nothing of toolkit but its base modules."""
