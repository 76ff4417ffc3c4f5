"""Counting conventions: the numbers torchinfo, fvcore, ptflops and thop report, reproduced."""
