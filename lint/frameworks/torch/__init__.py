"""torch: the layer table (signature, shape rule, parameters, config checks), tensor functions
and methods."""
