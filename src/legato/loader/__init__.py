"""Reading the project: configuration files and the user's modules. Imports definitions, graph."""
