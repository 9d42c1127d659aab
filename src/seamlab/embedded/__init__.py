"""Private server processes for the course services: one module per server, plus process helpers."""
