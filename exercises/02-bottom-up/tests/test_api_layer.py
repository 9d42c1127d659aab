"""Yours, step 3: the HTTP API on the real service (real repository, real mail provider).

Build the app with `create_api(<a real SubscriptionService>)` and call it over HTTP: serve it
with `live_server(app)` (gives a base URL for httpx) or use FastAPI's TestClient.
"""


def test_a_subscription_over_http_is_stored_and_can_be_looked_up(
    db_engine, mail_provider, live_server, subscriber_rows
):
    # TODO: POST /subscriptions, check the response body, then GET /subscriptions/<email>.
    pass
