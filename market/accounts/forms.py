"""Form fields for the account pages. Shape checks only; the rules live in the services.

CSRF is checked for every POST by the app-wide ``CSRFProtect``, so the forms do not check it again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from market.accounts import regions
from market.accounts.labels import INDUSTRY_LABELS, KIND_LABELS, ROLE_LABELS

REQUIRED = _l("This field is required.")


class _Form(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect already checked the request


def _choices(labels: dict[str, object]) -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in labels.items()]  # type: ignore[arg-type]


def kind_choices(blank: bool = True) -> list[SelectChoice]:
    choices = [SelectChoice("", _l("Detect from the code"))] if blank else []  # type: ignore[arg-type]
    return choices + _choices(KIND_LABELS)


def region_choices(locale: str) -> list[SelectChoice]:
    """Each city, then its counties, grouped by city."""
    choices = [SelectChoice("", "—")]
    for city in regions.cities():
        group = city.name(locale)
        choices.append(SelectChoice(city.code, group + " " + str(_l("(whole city)")), optgroup=group))
        choices.extend(SelectChoice(c.code, c.name(locale), optgroup=group) for c in regions.counties(city.code))
    return choices


class SignupForm(_Form):
    company_name = StringField(_l("Company name (as on the business licence)"),
                               validators=[DataRequired(REQUIRED), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(REQUIRED), Length(max=40)])
    kind = SelectField(_l("Kind of organisation"), choices=kind_choices(), validators=[Optional()])
    contact_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    contact = StringField(_l("Email or mobile number"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class JoinForm(_Form):
    """A person without an account asks to join an existing company."""

    contact_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    contact = StringField(_l("Email or mobile number"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class LoginForm(_Form):
    identifier = StringField(_l("Email or mobile number"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ForgotPasswordForm(_Form):
    identifier = StringField(_l("Email address"), validators=[DataRequired(REQUIRED), Length(max=254)])


class ResetPasswordForm(_Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ChangePasswordForm(_Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class AcceptInviteForm(_Form):
    contact_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class InviteForm(_Form):
    email = EmailField(_l("Colleague's email"), validators=[DataRequired(REQUIRED), Length(max=254)])
    role = SelectField(_l("Role"), choices=_choices(ROLE_LABELS), default="sales")


class ProfileForm(_Form):
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind of organisation"), choices=kind_choices(blank=False))
    industries = SelectMultipleField(_l("Industries"), choices=_choices(INDUSTRY_LABELS), validators=[Optional()])
    region_code = SelectField(_l("City or county"), validators=[Optional()], choices=[])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=32)])
    contact_email = StringField(_l("Contact email"), validators=[Optional(), Length(max=254)])


class LicenceForm(_Form):
    licence = FileField(_l("Business licence (photo or scan: JPEG, PNG or PDF)"))


class RejectForm(_Form):
    reason = TextAreaField(_l("Reason (the company will see it)"), validators=[DataRequired(REQUIRED),
                                                                             Length(max=500)])
