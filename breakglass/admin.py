"""The break-glass bundles in the admin: what each build did, a "Build now" button, and downloads.

Inside the admin so its second factor guards the file; downloads are for superusers only (the file
is the whole co-op, sealed, but still the whole co-op).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from . import store
from .models import Bundle
from .tasks import request_bundle


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["created_at", "state", "size", "build_seconds", "summary", "uploaded_at", "error", "download"]
    list_filter = ["state"]
    readonly_fields = [field.name for field in Bundle._meta.fields]
    change_list_template = "breakglass/admin_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="size")
    def size(self, bundle):
        return f"{bundle.size_bytes / 1024:.0f} KiB" if bundle.size_bytes else "—"

    @admin.display(description="download")
    def download(self, bundle):
        if not bundle.filename:
            return "—"
        return format_html('<a href="{}">Download</a>', reverse("admin:breakglass_bundle_download", args=[bundle.pk]))

    def get_urls(self):
        return [
            path("build/", self.admin_site.admin_view(self.build_now), name="breakglass_bundle_build"),
            path("newest/", self.admin_site.admin_view(self.download_newest), name="breakglass_bundle_newest"),
            path(
                "<int:pk>/download/", self.admin_site.admin_view(self.download_view), name="breakglass_bundle_download"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "where": store.describe(),
            "newest": Bundle.objects.exclude(filename="").first(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def build_now(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied
        return _build_now(request)

    def download_newest(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied
        bundle = Bundle.objects.exclude(filename="").first()
        if bundle is None:
            raise Http404("No bundle has been built yet.")
        return _download(bundle)

    def download_view(self, request, pk):
        if not request.user.is_superuser:
            raise PermissionDenied
        return _download(get_object_or_404(Bundle.objects.exclude(filename=""), pk=pk))


@require_POST
def _build_now(request):
    request_bundle(by=request.user)
    messages.info(request, "A new break-glass bundle is being built; reload this page to see how it went.")
    return redirect("admin:breakglass_bundle_changelist")


def _download(bundle):
    """The bundle's file: the local copy if this server still has it, else the one in the bucket."""
    path = store.local_path(bundle.filename)
    if path is not None:
        return FileResponse(path.open("rb"), as_attachment=True, filename=bundle.filename, content_type="text/html")
    if not store.is_configured():
        raise Http404("This bundle is no longer kept on this server.")
    try:
        chunks = store.open_stored(bundle.filename)
    except store.STORE_ERRORS as exc:
        raise Http404(f"The bucket did not give this bundle back: {store.explain(exc)}") from None
    response = StreamingHttpResponse(chunks, content_type="text/html")
    response["Content-Disposition"] = f'attachment; filename="{bundle.filename}"'
    return response
