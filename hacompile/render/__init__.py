"""Stage 4, render: plan → in-memory bundle (paths, bytes, modes). Nothing touches disk here."""
