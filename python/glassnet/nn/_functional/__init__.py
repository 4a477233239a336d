"""The pieces of glassnet.nn.functional, one file per op family."""
