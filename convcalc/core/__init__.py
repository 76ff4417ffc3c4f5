"""Pure arithmetic of one layer: window sizes, counts, receptive fields, shape notation; no I/O, no third-party imports."""
