"""Geometry on the CGCS2000 ellipsoid: coordinate systems, ellipsoidal area, polygon parts,
the zone index and the overlay (areas and shares of features within zones). Modules whose
names start with an underscore are the overlay's internals (and ``_compiled`` its numba
kernels); other packages use the public modules only."""
