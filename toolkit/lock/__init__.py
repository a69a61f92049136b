"""The whole-stack lock: base image by digest, every OS package and every pip artifact pinned.

model.py holds the data; pip_resolve.py and apt_resolve.py find it for a target without building;
lockfile.py writes and reads the text file; apply.py turns a plan into its locked plan; stale.py
says what changed since a lock was made."""
