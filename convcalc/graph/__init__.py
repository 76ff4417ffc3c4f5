"""The network graph (nodes in topological order) and the one analysis pass over it."""
