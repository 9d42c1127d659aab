import pytest

from validation import ValidationError, parse_signup

FORM = {"name": "Ada Lovelace", "email": "Ada@Example.org", "birth_date": "10/12/1990"}


def test_accepts_a_complete_form():
    signup = parse_signup(FORM)

    assert signup.name == "Ada Lovelace"
    assert signup.email == "ada@example.org"
    assert signup.birth_date


def test_trims_spaces_the_browser_left_around_fields():
    signup = parse_signup({key: f"  {value} " for key, value in FORM.items()})

    assert signup.name == "Ada Lovelace"
    assert signup.email == "ada@example.org"


@pytest.mark.parametrize("field", ["name", "email", "birth_date"])
def test_names_the_field_that_is_missing(field):
    form = {**FORM, field: ""}

    with pytest.raises(ValidationError) as error:
        parse_signup(form)

    assert error.value.field == field


def test_rejects_an_email_without_a_domain():
    with pytest.raises(ValidationError, match="email"):
        parse_signup({**FORM, "email": "ada@"})


@pytest.mark.parametrize("typed", ["1990-12-10", "10.12.1990", "10/12/90", "tomorrow"])
def test_rejects_a_birth_date_not_written_day_month_year(typed):
    with pytest.raises(ValidationError, match="birth_date"):
        parse_signup({**FORM, "birth_date": typed})
