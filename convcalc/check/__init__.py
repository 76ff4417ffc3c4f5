"""`convcalc check`: expectations in specs, file discovery, and the in-place editor of --update."""
