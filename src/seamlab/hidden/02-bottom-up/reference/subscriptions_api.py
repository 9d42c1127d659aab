"""The newsletter's HTTP API: subscribe, and look a subscription up."""

from __future__ import annotations

from confirmation_mailer import ConfirmationNotSent
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from subscribers_repo import AlreadySubscribed
from subscription_service import SubscriptionService


class SubscriptionForm(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=100)


class SubscriberOut(BaseModel):
    id: int
    email: str
    name: str


def create_api(service: SubscriptionService) -> FastAPI:
    app = FastAPI(title="Newsletter subscriptions")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/subscriptions", status_code=201, response_model=SubscriberOut)
    def subscribe(form: SubscriptionForm) -> SubscriberOut:
        try:
            subscriber = service.subscribe(form.email, form.name)
        except AlreadySubscribed:
            raise HTTPException(409, f"{form.email} is already subscribed.") from None
        except ConfirmationNotSent:
            raise HTTPException(
                503, "We could not send the confirmation email. Please try again later."
            ) from None
        return SubscriberOut(id=subscriber.id, email=subscriber.email, name=subscriber.name)

    @app.get("/subscriptions/{email}", response_model=SubscriberOut)
    def lookup(email: str) -> SubscriberOut:
        subscriber = service.lookup(email)
        if subscriber is None:
            raise HTTPException(404, f"{email} is not subscribed.")
        return SubscriberOut(id=subscriber.id, email=subscriber.email, name=subscriber.name)

    return app
