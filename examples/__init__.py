"""Example network specs, installed with convcalc as ``convcalc.examples`` so `convcalc net NAME` finds them."""
