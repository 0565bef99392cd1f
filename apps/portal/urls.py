"""Employee and reviewer pages."""

from django.urls import path

from .views import account, cases, evidence, inbox, notifications, review

app_name = "portal"

urlpatterns = [
    path("", account.home, name="home"),
    path("accounts/login/", account.login, name="login"),
    path("accounts/logout/", account.logout, name="logout"),
    path("me/evidence/", evidence.my_evidence, name="my-evidence"),
    path("me/evidence/new/", evidence.evidence_new, name="evidence-new"),
    path("me/evidence/<int:pk>/edit/", evidence.evidence_edit, name="evidence-edit"),
    path("me/evidence/<int:pk>/submit/", evidence.evidence_submit_view, name="evidence-submit"),
    path("me/evidence/<int:pk>/delete/", evidence.evidence_delete_view, name="evidence-delete"),
    path("me/evidence/<int:pk>/correct/", evidence.evidence_correct_view, name="evidence-correct"),
    path(
        "me/evidence/<int:pk>/attachments/<int:attachment_pk>/remove/",
        evidence.attachment_remove_view,
        name="attachment-remove",
    ),
    path("evidence/<int:pk>/", evidence.evidence_detail, name="evidence-detail"),
    path("attachments/<int:pk>/download/", evidence.attachment_download, name="attachment-download"),
    path("review/", review.review_queue, name="review-queue"),
    path("review/<int:pk>/", review.review_item, name="review"),
    path("me/cases/", cases.my_cases, name="my-cases"),
    path("me/notifications/", notifications.notifications, name="notifications"),
    path("me/inbox/", inbox.inbox, name="inbox"),
    path("me/inbox/<int:pk>/", inbox.inbox_route, name="inbox-route"),
    path("me/inbox/<int:pk>/take/", inbox.inbox_take_view, name="inbox-take"),
    path("me/inbox/<int:pk>/release/", inbox.inbox_release_view, name="inbox-release"),
    path("me/inbox/<int:pk>/respond/", inbox.inbox_respond_view, name="inbox-respond"),
    path("me/inbox/<int:pk>/no-action/", inbox.inbox_no_action_view, name="inbox-no-action"),
    path("me/inbox/<int:pk>/reopen/", inbox.inbox_reopen_view, name="inbox-reopen"),
    path("me/insights/raise/", inbox.insight_raise_view, name="insight-raise"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("cases/<int:pk>/decide/", cases.case_decide, name="case-decide"),
    path("cases/<int:pk>/exception/", cases.case_exception_request_view, name="case-exception-request"),
    path("cases/<int:pk>/attest/", cases.case_attest_view, name="case-attest"),
    path(
        "cases/<int:pk>/attestations/<int:attestation_pk>/withdraw/",
        cases.case_attestation_withdraw_view,
        name="case-attestation-withdraw",
    ),
]
