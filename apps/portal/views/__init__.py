"""Views of the employee and reviewer pages, one module per area."""
