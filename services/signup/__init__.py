"""signup: the course's sample system, a user-registration API with real parts.

FastAPI routes (api.py) over a use case (service.py) that validates (validation.py), stores
users in Postgres (repository.py, models.py), caches reads in Redis (cache.py), sends a welcome
email through the mail provider (mail.py) and publishes events to RabbitMQ (events.py).
Build it with ``signup.app.create_app()``; create its tables with ``signup.schema.create_all``.
"""
