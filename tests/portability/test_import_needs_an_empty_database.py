"""Import restores a co-op into a new database; it never merges into one that already holds a co-op."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError

from .conftest import co_op_rows, empty_the_database, export, import_file

pytestmark = pytest.mark.django_db


def test_importing_into_a_database_with_a_co_op_is_refused_and_changes_nothing(demo_coop, tmp_path):
    export(tmp_path / "coop.json")
    rows = co_op_rows()

    with pytest.raises(CommandError, match="already holds a co-op .*create a new database, run `manage.py migrate`"):
        import_file(tmp_path / "coop.json")
    assert co_op_rows() == rows


def test_the_role_groups_migrate_made_do_not_count_as_a_co_op(demo_coop, tmp_path):
    export(tmp_path / "coop.json")
    empty_the_database()
    assert set(Group.objects.values_list("name", flat=True)) == {"Members", "Operators"}

    import_file(tmp_path / "coop.json")

    assert set(Group.objects.values_list("name", flat=True)) == {"Members", "Operators"}
