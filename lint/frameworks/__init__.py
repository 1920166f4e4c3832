"""What each deep-learning framework means to the engine: its layer table, tensor functions and
methods, and its module/container model."""
