"""User-task forms: JSON Schema files read and turned into typed data; `engine.form_checks` validates them."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.formats import date_fr, number_fr

FORM_LEVEL = "__form__"
# A date recording a fact (an interview held, an offer published, a contract signed) cannot lie in the future:
# `"x-not-after-today": true` on a date property says so, and the form sets the date field's maximum.
NOT_AFTER_TODAY = "x-not-after-today"
# Dates bounded by a rule that depends on the instance (the campaign's window for the start of missions):
# `"x-earliest"` and `"x-latest"` (ISO dates) on a date property, filled when the form is served
# (`engine.runtime.form_bounds`), since Draft 2020-12 has no date bounds in its core vocabulary. They are checked
# here and become the date input's min and max, so the page, the API's schema and the rules agree.
EARLIEST = "x-earliest"
LATEST = "x-latest"
# The refusal a property's limits give (`minimum`, `maximum`, `x-earliest`, `x-latest`) when a rule words it better
# than the generic one: « La prestation de subsistance est d'au moins 114,85 € par mois. »
BOUND_MESSAGE = "x-message"
# A file field (react-jsonschema-form's convention) holds, once received, the reference of a stored document.
FILE_FORMAT = "data-url"
FILE_ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
DOCUMENT_REFERENCE = {
    "type": "object",
    "required": ["document_id"],
    "properties": {
        "document_id": {"type": "integer"},
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
        "version": {"type": ["integer", "null"]},
    },
    "additionalProperties": False,
}
# Choices computed when the form is shown (the school's tuteurs): `"x-options-from": "<source>"` on a property
# names a provider of `handlers.CHOICES`.
CHOICES_KEYWORD = "x-options-from"
# A field only the unions' gestionnaires and process owners read (`"x-internal": true`): school staff never see it,
# in the dossier's history or through the API.
INTERNAL = "x-internal"
# A field holding a person's data (`"x-personal": true`, or `{"retention": "P5Y"}` to keep it longer or shorter
# than the default rule): exported and anonymised (`engine.campaign.personal_marks`). `false` says a field whose name
# suggests it holds none. A form collecting a volunteer's data says so (`"x-personal-data": "volontaire"`).
PERSONAL = "x-personal"
PERSONAL_DATA = "x-personal-data"
# Sections shown above a task's form, read-only (`engine.views.task_context`): earlier answers, computed lines.
CONTEXT_KEY = "ui:context"
# How many earlier completions of a task a context section shows: all, or the latest one.
ROUNDS: dict[str, int | None] = {"all": None, "last": 1}
# Forms the platform shows outside any BPMN user task, named as a task's would be (`forms/<id>.schema.json`,
# `forms/<id>.uischema.json`): the validator counts them as used. The early end of a mission is the only one.
END_MISSION_FORM = "end_mission"
ACTION_FORMS = frozenset({END_MISSION_FORM})


@dataclass
class Field:
    """One field of a form, as the page renders it."""

    name: str
    title: str
    kind: str
    required: bool
    description: str | None = None
    help: str | None = None
    placeholder: str | None = None
    input_type: str = "text"
    options: list[tuple[Any, str]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: Any = None
    step: str = "1"
    accept: str | None = None
    # Heading shown before the field, starting a group of fields (`ui:section` in the UI schema).
    section: str | None = None
    # A date field recording a fact: the latest date the browser offers is today (ISO), when the page knows it.
    not_after_today: bool = False
    min_date: str | None = None
    max_date: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """What a person confirms before an irreversible choice is sent (`ui:confirm` in the UI hints)."""

    title: str
    message: str
    button: str


# What the submit button says while the server works (`ui:submitBusy` in the UI hints changes it).
DEFAULT_BUSY_LABEL = "Envoi en cours…"
DEFAULT_SUBMIT_LABEL = "Valider et transmettre"


def _web_value(value: Any) -> str:
    """A choice value as the page's inputs carry it (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Form:
    """A task's form: its JSON Schema and optional UI hints."""

    schema: dict
    ui: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """Title of the form."""
        return self.schema.get("title", "")

    @property
    def properties(self) -> dict:
        """The schema's properties."""
        return self.schema.get("properties", {})

    @property
    def busy_label(self) -> str:
        """What the submit button says while the submission is processed (a contract being generated...)."""
        label = self.ui.get("ui:submitBusy")
        return label if isinstance(label, str) and label.strip() else DEFAULT_BUSY_LABEL

    @property
    def keeps_previous_answers(self) -> bool:
        """Whether a new round of the task starts from the answers of the previous one (`ui:keepPreviousAnswers`).

        A project sent back for changes is revised, so its form keeps what was written; a decision (a review, an
        opinion, a follow-up) is new at each round and starts empty.
        """
        return self.ui.get("ui:keepPreviousAnswers") is True

    def submit_labels(self) -> tuple[str | None, dict[str, str]]:
        """The choice field whose value names the submit button, and the label for each value.

        A field's UI hints may carry `"ui:submitLabel": {"<value>": "<button label>"}` (« Refuser le candidat »).
        """
        for name, hints in self.ui.items():
            labels = hints.get("ui:submitLabel") if isinstance(hints, dict) else None
            if isinstance(labels, dict) and name in self.properties:
                return name, {str(value): str(label) for value, label in labels.items()}
        return None, {}

    def submit_label(self, data: dict) -> str:
        """What the submit button says for the values given (the decision chosen)."""
        name, labels = self.submit_labels()
        value = data.get(name) if name is not None else None
        return labels.get(_web_value(value), DEFAULT_SUBMIT_LABEL) if value is not None else DEFAULT_SUBMIT_LABEL

    def confirmation_for(self, data: dict) -> Confirmation | None:
        """The confirmation an irreversible choice in the data asks for, or None.

        A field's UI hints may carry `"ui:confirm": {"<value>": {"title": …, "message": …, "button": …}}`:
        choosing that value (refusing a project, confirming a signed contract) is confirmed on a page of its own.
        """
        for name, hints in self.ui.items():
            asks = hints.get("ui:confirm") if isinstance(hints, dict) else None
            value = data.get(name)
            if not isinstance(asks, dict) or not isinstance(value, str) or not isinstance(asks.get(value), dict):
                continue
            asked = asks[value]
            label = self.label_of(name, value)
            return Confirmation(title=asked.get("title") or f"Confirmer : {label} ?",
                                message=asked.get("message") or "Ce choix est définitif.",
                                button=asked.get("button") or f"Confirmer : {label}")
        return None

    def summary(self, data: dict) -> list[tuple[str, str]]:
        """(title, readable value) of the fields given, in display order: what a confirmation page recalls."""
        return [(field.title, self.label_of(field.name, data[field.name])) for field in self.fields()
                if data.get(field.name) not in (None, "", [])]

    def internal_fields(self) -> set[str]:
        """Names of the fields school staff never see (`x-internal`)."""
        return {name for name, prop in self.properties.items() if prop.get(INTERNAL) is True}

    def personal_marks(self) -> dict[str, bool | dict]:
        """Each field's `x-personal` mark, for the fields that carry one (checked by the validator)."""
        return {name: prop[PERSONAL] for name, prop in self.properties.items()
                if isinstance(prop, dict) and PERSONAL in prop}

    def file_fields(self) -> list[str]:
        """Names of the fields holding a file."""
        return [name for name, prop in self.properties.items() if prop.get("format") == FILE_FORMAT]

    def choice_sources(self) -> dict[str, str]:
        """Fields whose choices are computed when the form is shown, with the name of their provider."""
        return {name: prop[CHOICES_KEYWORD] for name, prop in self.properties.items() if CHOICES_KEYWORD in prop}

    def with_choices(self, resolved: dict[str, list[dict]]) -> Form:
        """A copy of the form whose computed fields offer the given choices (`value`, `label` items).

        With no choice at all, the field accepts nothing, so that the rule beside it explains why. Only the
        levels that change are copied (this is on every completion): the rest is shared, as no form is ever
        changed in place.
        """
        properties = dict(self.schema["properties"])
        for name, items in resolved.items():
            prop = {key: value for key, value in properties[name].items() if key not in ("oneOf", "enum")}
            if items:
                prop["oneOf"] = [{"const": item["value"], "title": item["label"]} for item in items]
            else:
                prop["enum"] = []
            properties[name] = prop
        return Form(schema={**self.schema, "properties": properties}, ui=self.ui)

    def with_bounds(self, bounds: dict[str, dict]) -> Form:
        """A copy of the form whose properties carry the given keywords (`minimum`, `x-earliest`...).

        As in `with_choices`, only the levels that change are copied.
        """
        if "properties" not in self.schema:
            return self
        properties = dict(self.schema["properties"])
        for name, keywords in bounds.items():
            if name in properties:
                properties[name] = {**properties[name], **keywords}
        return Form(schema={**self.schema, "properties": properties}, ui=self.ui)

    def validation_schema(self) -> dict:
        """The schema that submitted data are checked against: file fields hold document references."""
        files = self.file_fields()
        if not files:
            return self.schema
        # Only the file fields' entries are replaced: a shallow copy of the two levels they sit in is enough.
        properties = dict(self.schema["properties"])
        for name in files:
            properties[name] = {**DOCUMENT_REFERENCE, "title": properties[name].get("title", name)}
        return {**self.schema, "properties": properties}

    def fields(self, today: date | None = None) -> list[Field]:
        """Fields in display order, with widget and choices; `today` bounds the fields that record a fact."""
        required = set(self.schema.get("required", []))
        order = self.ui.get("ui:order") or list(self.properties)
        names = [n for n in order if n in self.properties] + [n for n in self.properties if n not in order]
        fields = [self._field(name, self.properties[name], name in required) for name in names]
        if today is not None:
            for item in fields:
                if item.not_after_today:
                    item.max_date = min(filter(None, (item.max_date, today.isoformat())))
        return fields

    def field_named(self, name: str) -> Field:
        """The field of property `name`, as the page renders it."""
        return self._field(name, self.properties[name], name in self.schema.get("required", []))

    def _field(self, name: str, prop: dict, required: bool) -> Field:
        hints = self.ui.get(name, {})
        widget = hints.get("ui:widget")
        options = choices(prop)
        kind, input_type = "input", "text"
        if prop.get("format") == FILE_FORMAT:
            kind = "file"
        elif prop.get("type") == "array":
            kind, options = "checkboxes", choices(prop.get("items", {}))
        elif prop.get("type") == "boolean" and not options:
            kind = "checkbox"
        elif options or CHOICES_KEYWORD in prop:
            # Computed choices stay a list even when none is offered: the help beside it says why.
            kind = "radio" if widget == "radio" or prop.get("type") == "boolean" else "select"
        elif widget == "textarea":
            kind = "textarea"
        elif prop.get("type") in ("integer", "number"):
            input_type = "number"
        else:
            input_type = {"date": "date", "email": "email", "uri": "url"}.get(prop.get("format", ""), "text")
            if "phone" in name:
                input_type = "tel"
        return Field(
            name=name,
            title=prop.get("title", name),
            kind=kind,
            required=required,
            description=prop.get("description"),
            help=hints.get("ui:help"),
            placeholder=hints.get("ui:placeholder"),
            input_type=input_type,
            options=options,
            minimum=prop.get("minimum"),
            maximum=prop.get("maximum"),
            max_length=prop.get("maxLength"),
            default=prop.get("default"),
            step="any" if prop.get("type") == "number" else "1",
            accept=FILE_ACCEPT if kind == "file" else None,
            section=hints.get("ui:section"),
            not_after_today=bool(prop.get(NOT_AFTER_TODAY)),
            min_date=prop.get(EARLIEST),
            max_date=prop.get(LATEST),
        )

    def label_of(self, name: str, value: Any) -> str:
        """Human-readable form of a submitted value (choice titles, oui/non)."""
        prop = self.properties.get(name, {})
        if prop.get("format") == FILE_FORMAT and isinstance(value, dict):
            return str(value.get("filename", ""))
        options = choices(prop.get("items", {}) if prop.get("type") == "array" else prop)
        if prop.get("format") == "date" and isinstance(value, str):
            try:
                return date_fr(date.fromisoformat(value))
            except ValueError:
                return value
        if isinstance(value, list):
            return ", ".join(_label(options, v) for v in value)
        if prop.get("type") == "number" and isinstance(value, float) and not options:
            return number_fr(value)
        return _label(options, value)


def _label(options: list[tuple[Any, str]], value: Any) -> str:
    # 1 == True in Python: compare types too, or a count of 1 would read "Oui".
    for option, label in options:
        if option == value and type(option) is type(value):
            return label
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    return str(value)


def choices(prop: dict) -> list[tuple[Any, str]]:
    """(value, label) pairs of an enumeration, from `oneOf` const/title or `enum`."""
    if "oneOf" in prop:
        return [(item["const"], item.get("title", str(item["const"]))) for item in prop["oneOf"] if "const" in item]
    if "enum" in prop:
        return [(value, str(value)) for value in prop["enum"]]
    return []


def data_from_web_form(form: Form, submitted: Mapping, files: Mapping | None = None) -> dict:
    """Turn browser form input (strings, uploaded files) into data of the schema's types.

    Values that cannot be converted are kept as typed text so that validation
    reports them and the page shows them back unchanged. A file field gives the
    uploaded file (`engine.uploads.Upload`) or, when none was chosen, the
    document already attached (its id sent back by the page).
    """
    from engine.uploads import Upload

    data: dict[str, Any] = {}
    for name, prop in form.properties.items():
        kind = prop.get("type")
        if prop.get("format") == FILE_FORMAT:
            uploaded = files.get(name) if files is not None else None
            kept = str(submitted.get(name) or "").strip()
            if uploaded is not None and getattr(uploaded, "filename", None):
                data[name] = Upload(filename=uploaded.filename, content=uploaded.read())
            elif kept.isdigit():
                data[name] = {"document_id": int(kept)}
            continue
        if kind == "array":
            values = [v for v in submitted.getlist(name) if v != ""] if hasattr(submitted, "getlist") else submitted.get(name, [])
            data[name] = values
            continue
        raw = submitted.get(name)
        if kind == "boolean" and not choices(prop):
            data[name] = raw in ("on", "true", "1", "oui")
            continue
        if raw is None or str(raw).strip() == "":
            continue
        data[name] = _convert(str(raw).strip(), kind)
    return data


def _convert(text: str, kind: str | None) -> Any:
    try:
        if kind == "integer":
            return int(text.replace(" ", "").replace("\u202f", ""))
        if kind == "number":
            number = float(text.replace(" ", "").replace("\u202f", "").replace(",", "."))
            # « nan » and « inf » read as floats, which no bound refuses and JSON cannot hold: kept as typed,
            # they are refused as not a number.
            return number if math.isfinite(number) else text
    except ValueError:
        return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text
