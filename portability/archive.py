"""The co-op as one versioned JSON file: what goes in, what stays out, and how it comes back.

The file is Django's "python" serialization of every row, model by model, in an envelope:

    {"format": "switchboard-export", "version": 1, "exported_at": "...", "secrets": {...},
     "models": {"auth.Group": [{"fields": {...}}], "coop.Site": [{"pk": 1, "fields": {...}}], ...}}

In it: every model of the co-op's apps (COOP_APPS), their change history (django-simple-history's
Historical* tables are plain rows, so keeping them costs nothing), the users with their groups and
their e-mail addresses (allauth). Rows keep their primary keys; groups go by name, as migrate has
already made the role groups in the new database. Left out as runtime state, made again by use or by
migrate: sessions, pending e-mail confirmations, Celery results and the beat schedule, the admin's
action log, content types and permissions.

Secrets stay out unless the admin gives a key (`export --with-secrets --key-file F`): the encrypted
fields (EncryptedSecretField), password hashes, authenticator apps and recovery codes (allauth MFA),
and the tokens that work as passwords in a URL (BEARER_TOKENS). With a key each travels encrypted
with it under "secrets" on its row, so the file alone reveals none. Without one, an import leaves
each user an unusable password (they reset it) and no authenticator (they set one up again), the
encrypted fields empty (re-entered in the admin) and the tokens new (links sent before stop working).
"""

import datetime
import json
from pathlib import Path

from allauth.mfa.adapter import get_adapter as mfa_adapter
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.fields import EncryptedSecretField

FORMAT = "switchboard-export"
VERSION = 1

# The co-op's own apps, lowest layer first (every model in them, history included).
COOP_APPS = ["coop", "hosts", "incidents", "power", "backups", "monitors", "alerts", "notices"]
# Who logs in, before the apps that point at them.
ACCOUNTS = ["auth.Group", "auth.User", "account.EmailAddress"]
# Exported only with secrets: an authenticator is nothing but its secret.
AUTHENTICATOR = "mfa.Authenticator"
# Groups go by name, not number: the new database's role groups (made by migrate) have their own ids;
# so do a user's groups and a user's or group's permissions.
NAMED = {"auth.Group"}
NAMED_LINKS = {"auth.Group", "auth.User"}
# Rows that may be in the new database already: migrate makes the role groups.
MADE_BY_MIGRATE = {"auth.Group"}

# Kept in the clear, yet whoever holds one can accept the invitation, read the rota's calendar or
# fake a backup's heartbeat: exported like the encrypted fields.
BEARER_TOKENS = {
    "coop.Invitation": ["token"],
    "alerts.Rota": ["calendar_token"],
    "alerts.CalendarFeed": ["token"],
    "backups.BackupTarget": ["heartbeat_id"],
}
# The keys of an Authenticator's data that the MFA adapter encrypts with FIELD_ENCRYPTION_KEY.
AUTHENTICATOR_SECRETS = ["secret", "seed"]
# Encrypted with the export key into the file, so an import can tell a wrong key before writing.
KEY_CHECK = b"switchboard-export"

FERNET_HELP = (
    "make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > F"
)


def read_key(path):
    """The Fernet key in the file at `path`, or CommandError saying what is wrong with it."""
    try:
        key = Path(path).read_text(encoding="ascii").strip()
        return Fernet(key)
    except OSError as error:
        raise CommandError(f"Cannot read the key file {path}: {error.strerror}.") from None
    except (ValueError, UnicodeDecodeError):
        raise CommandError(f"{path} does not hold a Fernet key ({FERNET_HELP}).") from None


def exported_models(with_secrets):
    """The models the file holds, in the order they are written and read back."""
    labels = [*ACCOUNTS, *([AUTHENTICATOR] if with_secrets else [])]
    models = [apps.get_model(label) for label in labels]
    for app in COOP_APPS:
        models += apps.get_app_config(app).get_models()
    return models


def secret_fields(model):
    """The names of `model`'s fields that hold a secret; a Historical* model has its model's."""
    source = getattr(model, "instance_type", model)  # simple-history's link from a history model to its model
    names = [field.name for field in source._meta.concrete_fields if isinstance(field, EncryptedSecretField)]
    names += BEARER_TOKENS.get(source._meta.label, [])
    if source is get_user_model():
        names.append("password")
    if source._meta.label == AUTHENTICATOR:
        names.append("data")
    own = {field.name for field in model._meta.concrete_fields}
    return [name for name in names if name in own]


class ExactJSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but times keep their microseconds (it cuts them to milliseconds)."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


# --- export ----------------------------------------------------------------------------------


def export_coop(box=None):
    """The whole co-op as the envelope, and a list of secrets that could not be read.

    `box` is the Fernet of the admin's export key; without it no secret is read at all.
    Everything is read in one transaction (on PostgreSQL one snapshot), so the rows agree.
    """
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now(),
        "secrets": {"included": box is not None},
        "models": {},
    }
    unreadable = []
    owns_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if owns_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one snapshot for every table, as pg_dump does
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if box is not None:
            envelope["secrets"]["key_check"] = box.encrypt(KEY_CHECK).decode()
        for model in exported_models(with_secrets=box is not None):
            envelope["models"][model._meta.label] = _rows(model, box, unreadable)
    return envelope, unreadable


def _rows(model, box, unreadable):
    label = model._meta.label
    secrets = secret_fields(model)
    fields = [*model._meta.local_concrete_fields, *model._meta.local_many_to_many]
    kept = {name for field in fields if field.name not in secrets for name in (field.name, field.attname)}
    objects = list(
        model._base_manager.order_by("pk").prefetch_related(*(field.name for field in model._meta.local_many_to_many))
    )
    rows = serializers.serialize(
        "python",
        objects,
        fields=kept,
        use_natural_primary_keys=label in NAMED,
        use_natural_foreign_keys=label in NAMED_LINKS,
    )
    for obj, row in zip(objects, rows, strict=True):
        del row["model"]  # the key of the list it is in
        if box is None or not secrets:
            continue
        sealed = {}
        for name in secrets:
            value = _secret(obj, name)
            if value is _UNREADABLE:
                unreadable.append(f"{label} {obj.pk}: {name}")
            elif value:
                sealed[name] = box.encrypt(value.encode()).decode()
        if sealed:
            row["secrets"] = sealed
    return rows


_UNREADABLE = object()


def _secret(obj, name):
    """The clear text of one secret of `obj` ("" for none), or _UNREADABLE."""
    field = obj._meta.get_field(name)
    if isinstance(field, EncryptedSecretField):
        if not field.is_set(obj):
            return ""
        return getattr(obj, name) if field.is_readable(obj) else _UNREADABLE
    if obj._meta.label == AUTHENTICATOR:
        data = dict(obj.data)
        for key in AUTHENTICATOR_SECRETS:
            if key in data:
                try:
                    data[key] = mfa_adapter().decrypt(data[key])
                except InvalidToken:
                    return _UNREADABLE
        return json.dumps(data)
    return field.value_to_string(obj) or ""


def write_export(envelope, path):
    """Write the envelope to `path` (readable by its owner only), whole or not at all; its size in bytes."""
    text = json.dumps(envelope, cls=ExactJSONEncoder, ensure_ascii=False, indent=1) + "\n"
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{path} is a directory: give the name of the file to write, e.g. {path / 'coop.json'}.")
    if not path.parent.is_dir():
        raise CommandError(f"{path.parent} does not exist: create it first, or write the export somewhere else.")
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    # People's names, addresses and phone numbers are in it, whether or not secrets are.
    partial.touch(mode=0o600)
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return len(text.encode())


# --- import ----------------------------------------------------------------------------------


def read_export(path):
    """The envelope in the file at `path`, checked: format, version and the shape of every row."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a Switchboard export: it is not UTF-8 text.") from None
    try:
        envelope = json.loads(text)
    except RecursionError:
        raise CommandError(
            f"{path} is nested too deeply to be a Switchboard export (an export is a few levels deep). "
            "Nothing was imported."
        ) from None
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            raise CommandError(
                f"{path} stops in the middle of its JSON (at line {error.lineno}): the file is truncated. "
                "Copy it again from where it was exported. Nothing was imported."
            ) from None
        raise CommandError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}). Nothing was imported."
        ) from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise CommandError(
            f'{path} is not a Switchboard export (it has no "format": "{FORMAT}"). Nothing was imported.'
        )
    if envelope.get("version") != VERSION:
        raise CommandError(
            f"{path} is a Switchboard export of version {envelope.get('version')!r}; this Switchboard reads "
            f"version {VERSION} only. Nothing was imported."
        )
    models = envelope.get("models")
    if not isinstance(models, dict):
        raise CommandError(f'{path} has no "models". Nothing was imported.')
    known = {model._meta.label: model for model in exported_models(with_secrets=True)}
    for label, rows in models.items():
        if label not in known:
            raise CommandError(
                f"{path} holds rows of {label}, which this Switchboard does not import. Nothing was imported."
            )
        if not isinstance(rows, list) or not all(
            isinstance(row, dict) and isinstance(row.get("fields"), dict) for row in rows
        ):
            raise CommandError(
                f'{path}: the rows of {label} are not a list of {{"fields": ...}}. Nothing was imported.'
            )
    secrets = envelope.get("secrets")
    if not isinstance(secrets, dict) or not isinstance(secrets.get("included"), bool):
        raise CommandError(f'{path} has no "secrets": {{"included": true|false}}. Nothing was imported.')
    for label, rows in models.items():
        _check_rows(path, label, known[label], rows, with_secrets=secrets["included"])
    return envelope


def _check_rows(path, label, model, rows, *, with_secrets):
    """Refuse what an honest export never holds: a secret in clear, an authenticator without secrets, twin rows.

    A file edited by hand could otherwise plant a known password or a login token (secrets come only
    sealed with the admin's key), or overwrite one row with another under the same number.
    """
    if label == AUTHENTICATOR and rows and not with_secrets:
        raise CommandError(f"{path} says it holds no secrets yet has authenticator rows. Nothing was imported.")
    secret = set(secret_fields(model))
    # What an honest export writes for each field: a list for a many-to-many (numbers, or names for NAMED
    # rows), a list for a link by name, a dict or list only in a JSONField, else one plain value.
    lists = {field.name for field in model._meta.local_many_to_many}
    structured = {field.name for field in model._meta.concrete_fields if field.is_relation or _is_json(field)}
    seen = set()
    for row in rows:
        for name, value in row["fields"].items():
            if name in lists and value is not None and not isinstance(value, list):
                raise CommandError(f"{path}: {label} {row.get('pk')}: its {name} is not a list. Nothing was imported.")
            if name not in lists | structured and isinstance(value, dict | list):
                raise CommandError(
                    f"{path}: {label} {row.get('pk')}: its {name} is a {type(value).__name__}, not a single value. "
                    "Nothing was imported."
                )
        if clear := secret & set(row["fields"]):
            raise CommandError(
                f"{path}: {label} {row.get('pk')} has {', '.join(sorted(clear))} in clear; an export keeps secrets "
                "only sealed with its key. Nothing was imported."
            )
        sealed = row.get("secrets", {})
        if not isinstance(sealed, dict) or not all(isinstance(v, str) for v in sealed.values()):
            raise CommandError(f"{path}: the secrets of {label} {row.get('pk')} are not text. Nothing was imported.")
        if "pk" in row:
            if str(row["pk"]) in seen:
                raise CommandError(f"{path} holds {label} {row['pk']} twice. Nothing was imported.")
            seen.add(str(row["pk"]))


def _is_json(field):
    return field.get_internal_type() == "JSONField"


def _validate(obj):
    """The co-op's models' own field validation (choices, lengths, validators), as the admin's forms run it.

    A file edited by hand could otherwise hold a lifecycle that is no choice (a page's badge raises on it),
    a "hostname" that is markup, or (on SQLite, which ignores lengths) text longer than its column.

    Left to the database and _check_references: links (checked against the file, then by the constraints
    at the end; validating one here would query for a row that may come later) and the secrets (empty
    without a key, by design). History rows are what the model allowed when they were written: not judged.
    """
    model = type(obj)
    if getattr(model, "instance_type", None) is not None or model._meta.app_label not in COOP_APPS:
        return
    exclude = [field.name for field in model._meta.concrete_fields if field.is_relation]
    exclude += secret_fields(model)
    # NULL where the column allows it is what the code itself writes (a form would ask for a value).
    exclude += [
        field.name for field in model._meta.concrete_fields if field.null and getattr(obj, field.attname) is None
    ]
    obj.clean_fields(exclude=exclude)


def import_coop(envelope, box=None):
    """Write the envelope's rows into an empty database, all or nothing; rows written per model.

    `box` is the Fernet of the key the export was made with, needed when it holds secrets.
    """
    with_secrets = bool(envelope.get("secrets", {}).get("included"))
    if with_secrets and box is None:
        raise CommandError(
            "This export holds secrets encrypted with the key it was made with: give that key with --key-file. "
            "Nothing was imported."
        )
    if with_secrets:
        try:
            box.decrypt(envelope["secrets"]["key_check"].encode())
        except (InvalidToken, KeyError, AttributeError):
            raise CommandError(
                "The key given with --key-file is not the one this export was made with. Nothing was imported."
            ) from None
    models = {label: apps.get_model(label) for label in envelope["models"]}
    _check_references(envelope["models"], models)
    written = {}
    with transaction.atomic():
        _check_empty()
        deferred = []
        for label, rows in envelope["models"].items():
            for row in rows:
                obj = _deserialize(label, row, box if with_secrets else None)
                deferred += [obj] if obj.deferred_fields else []
            written[label] = len(rows)
        for obj in deferred:
            try:
                obj.save_deferred_fields()
            except (ObjectDoesNotExist, DeserializationError) as error:
                raise CommandError(
                    f"{obj.object._meta.label} {obj.object.pk}: {error}. Nothing was imported."
                ) from None
        try:
            connection.check_constraints()
        except DatabaseError as error:
            raise CommandError(f"The file's rows do not fit together: {error}. Nothing was imported.") from None
        with connection.cursor() as cursor:  # PostgreSQL: new rows are numbered after the imported ones
            for sql in connection.ops.sequence_reset_sql(no_style(), list(models.values())):
                cursor.execute(sql)
    return written


def _explained(error):
    """A ValidationError as one line: "lifecycle: Value 'x' is not a valid choice." per field."""
    if hasattr(error, "error_dict"):
        lines = (f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
    else:
        lines = error.messages
    return "; ".join(lines).rstrip(".")


def _check_empty():
    in_the_way = {
        model._meta.label: count
        for model in exported_models(with_secrets=True)
        if model._meta.label not in MADE_BY_MIGRATE and (count := model._base_manager.count())
    }
    if in_the_way:
        found = ", ".join(f"{label}: {count}" for label, count in list(in_the_way.items())[:4])
        more = f" and {len(in_the_way) - 4} more tables" if len(in_the_way) > 4 else ""
        raise CommandError(
            f"The database already holds a co-op (rows in {found}{more}). Import restores into an empty database only: "
            "create a new database, run `manage.py migrate`, then import. Nothing was imported."
        )


def _check_references(rows_by_label, models):
    """Every row a row points at (by number) is in the file, else CommandError naming both."""
    present = {label: {str(row.get("pk")) for row in rows} for label, rows in rows_by_label.items()}
    missing = []
    for label, rows in rows_by_label.items():
        model = models[label]
        # History points at rows that may be gone since (simple-history makes those without a constraint).
        links = [field for field in model._meta.local_concrete_fields if field.is_relation and field.db_constraint]
        links += [field for field in model._meta.local_many_to_many if field.remote_field.db_constraint]
        for field in links:
            target = field.related_model._meta.label
            if target not in present:
                continue  # content types and permissions: looked up by name in the new database
            for row in rows:
                value = row["fields"].get(field.name)
                for ref in (value or []) if field.many_to_many else [value]:
                    if ref is not None and not isinstance(ref, list) and str(ref) not in present[target]:
                        where = f"{label} {row.get('pk')}: its {field.name}"
                        missing.append(f"{where} points at {target} {ref}, which is not in the file")
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise CommandError(
            "The file points at rows it does not hold: " + "; ".join(missing[:5]) + f"{more}. Nothing was imported."
        )


def _deserialize(label, row, box):
    """Save one row as it was exported (no history written, no signal's side effect); the DeserializedObject."""
    fields = dict(row["fields"])
    for name, sealed in (row.get("secrets") or {}).items() if box else []:
        try:
            value = box.decrypt(sealed.encode()).decode()
        except (InvalidToken, AttributeError):
            raise CommandError(
                f"{label} {row.get('pk')}: its {name} cannot be decrypted with the key given. Nothing was imported."
            ) from None
        if label == AUTHENTICATOR and name == "data":
            value = json.loads(value)
            for key in AUTHENTICATOR_SECRETS:
                if key in value:
                    value[key] = mfa_adapter().encrypt(value[key])  # with this installation's FIELD_ENCRYPTION_KEY
        fields[name] = value
    record = {"model": label, "fields": fields, **({"pk": row["pk"]} if "pk" in row else {})}
    try:
        (obj,) = serializers.deserialize("python", [record], handle_forward_references=True)
        _validate(obj.object)
        if label == "auth.User" and "password" not in fields:
            obj.object.set_unusable_password()
        obj.object.skip_history_when_saving = True  # simple-history: the history comes from the file
        obj.save()
    except (
        DeserializationError,
        ObjectDoesNotExist,
        FieldDoesNotExist,
        ValueError,
        TypeError,
    ) as error:
        raise CommandError(f"{label} {row.get('pk')}: {error}. Nothing was imported.") from None
    except ValidationError as error:
        raise CommandError(f"{label} {row.get('pk')}: {_explained(error)}. Nothing was imported.") from None
    except DatabaseError as error:
        raise CommandError(f"{label} {row.get('pk')} cannot be written: {error}. Nothing was imported.") from None
    return obj
