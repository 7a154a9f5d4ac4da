"""The landing-zone example: file arrival, dynamic tenants, declarative chaining, a roll-up."""
