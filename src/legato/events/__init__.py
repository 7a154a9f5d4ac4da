"""What happened: event records, statuses, and the one table of legal status transitions. Pure."""
