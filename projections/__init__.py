"""Read models rebuilt from the events: the books and the reports folded from them."""
