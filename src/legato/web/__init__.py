"""REST API and web UI (server side): reads the store, writes requests to it, never executes."""
