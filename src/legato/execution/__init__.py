"""How it runs: the engine that drives a plan, the step runner, executors and IO managers."""
