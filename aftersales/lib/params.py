"""GET parameters read through a form before any reaches a query."""

from django import forms


class ParamsForm(forms.Form):
    """A page's GET parameters: a value not of its kind (a NUL in a search, letters for an id,
    a number past a column's range) is left out, as if not given."""

    def values(self):
        """{name: value} of the parameters given and valid."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
