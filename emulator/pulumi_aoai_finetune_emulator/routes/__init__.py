"""Thin HTTP layers: parse, call the backend, serialize. One module per plane."""
