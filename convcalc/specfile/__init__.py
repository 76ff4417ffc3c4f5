"""The spec file format: YAML with line numbers, expressions, schemas, limits, loading and expansion into a graph."""
