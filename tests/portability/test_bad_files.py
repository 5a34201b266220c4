"""A file that is not a whole, matching export imports nothing, and says what is wrong with it:
not an export, another version, not JSON, cut short, rows pointing at rows it does not hold, rows
that clash in the database."""

import json

import pytest
from django.core.management import CommandError

from .conftest import co_op_rows, empty_the_database, export, import_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(demo_coop, tmp_path):
    """The demo co-op's export, and a database emptied for it."""
    path = tmp_path / "coop.json"
    envelope = export(path)
    empty_the_database()
    return path, envelope


def rewrite(path, envelope):
    path.write_text(json.dumps(envelope))
    return path


def test_a_file_of_another_version_is_refused(exported):
    path, envelope = exported
    rewrite(path, {**envelope, "version": 2})

    with pytest.raises(CommandError, match="version 2; this Switchboard reads version 1"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_json_file_that_is_not_an_export_is_refused(exported, tmp_path):
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps([{"model": "coop.site", "pk": 1, "fields": {"name": "x"}}]))

    with pytest.raises(CommandError, match="is not a Switchboard export"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_file_that_is_not_json_is_refused(exported, tmp_path):
    path = tmp_path / "coop.json"
    path.write_text("format: switchboard-export\n")

    with pytest.raises(CommandError, match="is not valid JSON"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_truncated_file_is_refused(exported):
    path, _ = exported
    text = path.read_text()
    path.write_text(text[: len(text) * 2 // 3])

    with pytest.raises(CommandError, match="truncated"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_machine_at_a_site_the_file_does_not_hold_is_refused(exported):
    path, envelope = exported
    machine = envelope["models"]["hosts.Machine"][0]
    machine["fields"]["site"] = 999
    rewrite(path, envelope)

    with pytest.raises(CommandError) as refused:
        import_file(path)
    assert f"hosts.Machine {machine['pk']}: its site points at coop.Site 999, which is not in the file" in str(
        refused.value
    )
    assert co_op_rows() == {}


def test_rows_that_clash_in_the_database_leave_nothing_half_written(exported):
    path, envelope = exported
    first, second = envelope["models"]["coop.Site"][:2]
    second["fields"]["slug"] = first["fields"]["slug"]  # the second site is written after many rows already were
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"coop.Site {second['pk']} cannot be written"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_model_this_switchboard_does_not_know_is_refused(exported):
    path, envelope = exported
    envelope["models"]["billing.Invoice"] = []
    rewrite(path, envelope)

    with pytest.raises(CommandError, match="billing.Invoice"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_file_edited_to_plant_a_superuser_with_a_known_password_is_refused(exported):
    from django.contrib.auth.hashers import make_password

    path, envelope = exported
    user = dict(envelope["models"]["auth.User"][0])
    user["fields"] = {**user["fields"], "is_superuser": True, "password": make_password("hunter2")}
    envelope["models"]["auth.User"][0] = user
    rewrite(path, envelope)

    with pytest.raises(CommandError, match="password in clear"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_file_with_two_rows_under_one_number_is_refused(exported):
    path, envelope = exported
    sites = envelope["models"]["coop.Site"]
    sites.append({**sites[0], "fields": {**sites[0]["fields"], "name": "An impostor"}})
    rewrite(path, envelope)

    with pytest.raises(CommandError, match=f"holds coop.Site {sites[0]['pk']} twice"):
        import_file(path)
    assert co_op_rows() == {}


def test_a_file_whose_secrets_part_is_missing_is_refused_before_anything_is_written(exported):
    path, envelope = exported
    del envelope["secrets"]
    rewrite(path, envelope)

    with pytest.raises(CommandError, match='no "secrets"'):
        import_file(path)
    assert co_op_rows() == {}


def test_an_export_to_a_directory_says_so(demo_coop, tmp_path):
    with pytest.raises(CommandError, match="is a directory"):
        export(tmp_path)
    assert list(tmp_path.iterdir()) == []
