"""How definitions connect: graph building, selection, planning. Pure; imports only definitions."""
