"""A Legato example: tenants x days partitions, a fan-in per day and a monthly roll-up."""
