"""What the command line offers beyond `check`: summary, confirm."""
