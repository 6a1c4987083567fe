"""Migration from Sloth, Pyrra and OpenSLO: converted trees, kept labels, what changes."""
