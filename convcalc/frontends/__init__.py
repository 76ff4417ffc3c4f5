"""Front ends: every way a network comes in besides a convcalc spec (an Ultralytics model YAML, an ONNX file, a
PyTorch model) becomes spec data, which the spec loader validates and expands into the one graph."""
