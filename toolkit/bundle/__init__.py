"""Air-gap bundles (`toolkit bundle`): everything a locked plan installs, gathered into one folder that
checks itself (SHA256SUMS) and installs with no network (install.sh): a local apt repository of the
locked .debs, a wheelhouse of the locked wheels (hash-checked against the lock), and the setup script
rendered to use only them."""
