from __future__ import annotations

from django.urls import URLPattern, path

from bim_review import issue_views

urlpatterns: list[URLPattern] = [
    path("bim/sessions/<int:session_id>/issues", issue_views.issues, name="bim_issues"),
    path("bim/sessions/<int:session_id>/issues/<uuid:guid>", issue_views.issue, name="bim_issue"),
    path("bim/sessions/<int:session_id>/issues/<uuid:guid>/comments", issue_views.comment, name="bim_issue_comment"),
    path("bim/sessions/<int:session_id>/issues/<uuid:guid>/change", issue_views.change, name="bim_issue_change"),
    path(
        "bim/sessions/<int:session_id>/issues/<uuid:guid>/viewpoints",
        issue_views.viewpoints,
        name="bim_issue_viewpoints",
    ),
    path(
        "bim/sessions/<int:session_id>/issues/<uuid:guid>/viewpoints/<uuid:vp>/snapshot.png",
        issue_views.snapshot,
        name="bim_issue_snapshot",
    ),
    path("bim/sessions/<int:session_id>/bcf", issue_views.bcf_file, name="bim_bcf"),
    path("bim/sessions/<int:session_id>/compare", issue_views.compare_view, name="bim_compare"),
]
