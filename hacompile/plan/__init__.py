"""Stage 3, plan: every value the bundle needs, computed once, frozen, ready to format."""
