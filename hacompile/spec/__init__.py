"""The ha.yaml model (stage 2, validate): field shapes in `model`, cross-field rules in `rules`."""
