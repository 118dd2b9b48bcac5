"""One module per dashboard page: layout and widgets only; data comes from dashboard.data."""
