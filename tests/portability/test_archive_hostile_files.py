"""A hand-edited or hostile import file: values of the wrong type, nesting too deep to parse, values the
forms would never accept (a lifecycle that is no choice, a hostname that is no hostname, text longer than
its column). Each is a clear CommandError naming the row, and nothing is written."""

import importlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from .conftest import co_op_rows, empty_the_database

pytestmark = pytest.mark.django_db

# The commands themselves, not by name: which app's `export` manage.py runs is test_archive_commands' concern.
EXPORT = importlib.import_module("portability.management.commands.export").Command
IMPORT = importlib.import_module("portability.management.commands.import").Command


def export(path, *args):
    call_command(EXPORT(), str(path), *args, stdout=StringIO(), stderr=StringIO())
    return json.loads(path.read_text())


def import_file(path, *args):
    call_command(IMPORT(), str(path), *args, stdout=StringIO())


@pytest.fixture
def exported(demo_coop, tmp_path):
    path = tmp_path / "coop.json"
    envelope = export(path)
    empty_the_database()
    return path, envelope


def rewrite(path, envelope):
    path.write_text(json.dumps(envelope))
    return path


def test_a_many_to_many_field_that_is_not_a_list_is_refused(exported):
    path, envelope = exported
    machine = envelope["models"]["hosts.Machine"][0]
    machine["fields"]["admins"] = 7
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"hosts.Machine {machine['pk']}: its admins is not a list"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_file_nested_too_deep_to_read_is_refused(tmp_path, db):
    path = tmp_path / "coop.json"
    path.write_text('{"format": "switchboard-export", "version": 1, "models": ' + "[" * 200_000 + "]" * 200_000 + "}")

    with pytest.raises(CommandError, match="nested too deeply"):
        import_file(path)


def test_a_lifecycle_that_is_no_choice_is_refused(exported):
    path, envelope = exported
    machine = envelope["models"]["hosts.Machine"][0]
    machine["fields"]["lifecycle"] = "pwned"
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"hosts.Machine {machine['pk']}: lifecycle: .*not a valid choice"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_hostname_that_is_markup_is_refused(exported):
    path, envelope = exported
    machine = envelope["models"]["hosts.Machine"][0]
    machine["fields"]["hostname"] = '<img src=x onerror="alert(1)">'
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"hosts.Machine {machine['pk']}: hostname"):
        import_file(path)
    assert co_op_rows() == {}


def test_text_longer_than_its_column_is_refused_on_every_database(exported):
    path, envelope = exported
    site = envelope["models"]["coop.Site"][0]
    site["fields"]["name"] = "x" * 100_000
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"coop.Site {site['pk']}: name"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_field_of_the_wrong_type_is_refused(exported):
    path, envelope = exported
    site = envelope["models"]["coop.Site"][0]
    site["fields"]["name"] = {"not": "a name"}
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"coop.Site {site['pk']}: its name is a dict, not a single value"):
        import_file(path)
    assert co_op_rows() == {}
