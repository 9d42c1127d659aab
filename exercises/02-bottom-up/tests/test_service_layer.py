"""Yours, step 2: the service on the real repository (and the real mail provider).

Use `SubscriptionService(SubscriberRepository(db_engine), ConfirmationMailer(mail_provider.url))`.
"""


def test_subscribing_stores_the_subscriber_and_sends_one_confirmation(
    db_engine, mail_provider, subscriber_rows
):
    # TODO: subscribe, then check the row in Postgres and the provider's sent_emails().
    pass


def test_the_same_address_in_other_letters_is_already_subscribed(
    db_engine, mail_provider, subscriber_rows
):
    # TODO: subscribe twice with the address spelled differently; what may the second do?
    pass
