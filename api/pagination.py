"""Lists come a page at a time, behind an opaque cursor: stable while rows are added, cheap at any depth."""

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "pk"
