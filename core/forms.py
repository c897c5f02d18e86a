"""Helpers for Django forms."""

from typing import TypeVar

from django import forms

_F = TypeVar("_F", bound=forms.Field)


def form_field(form: forms.BaseForm, name: str, kind: type[_F]) -> _F:
    """The form's field `name` as the class it is declared with (`kind`), to set what only that
    class has (`choices`, `queryset`). `form.fields` holds plain `Field`s for the type checker;
    a declaration changed to another class fails here, loudly."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{type(form).__name__}.{name} is not a {kind.__name__}")
    return field
