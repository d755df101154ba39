from django.urls import include, path

from .views import articles, lists

app_name = "knowledge"
urlpatterns = [
    path("", articles.article_list, name="list"),
    path("new/", articles.article_create, name="create"),
    path("review/", articles.review_queue, name="review_queue"),
    path("from-ticket/<int:ticket_pk>/", articles.from_ticket, name="from_ticket"),
    path("<int:pk>/", articles.article_detail, name="detail"),
    path("<int:pk>/edit/", articles.article_edit, name="edit"),
    path("<int:pk>/act/<str:action>/", articles.article_act, name="act"),
    path("<int:pk>/compare/", articles.article_compare, name="compare"),
    path("<int:pk>/versions/<int:number>/restore/", articles.article_restore, name="restore"),
    path("<int:pk>/attachments/", articles.attachment_add, name="attachment_add"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        articles.attachment_file,
        name="attachment_file",
    ),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/delete/",
        articles.attachment_delete,
        name="attachment_delete",
    ),
    path("fault-codes/", lists.faultcode_list, name="faultcode_list"),
    path("fault-codes/new/", lists.faultcode_create, name="faultcode_create"),
    path("fault-codes/<int:pk>/edit/", lists.faultcode_edit, name="faultcode_edit"),
    path("fault-codes/<int:pk>/delete/", lists.faultcode_delete, name="faultcode_delete"),
    path("synonyms/", lists.synonym_list, name="synonym_list"),
    path("synonyms/new/", lists.synonym_create, name="synonym_create"),
    path("synonyms/<int:pk>/edit/", lists.synonym_edit, name="synonym_edit"),
    path("synonyms/<int:pk>/delete/", lists.synonym_delete, name="synonym_delete"),
    path("templates/", lists.template_list, name="template_list"),
    path("templates/new/", lists.template_create, name="template_create"),
    path("templates/<int:pk>/edit/", lists.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", lists.template_delete, name="template_delete"),
    # Suggestions while a request is typed and for a request, feedback from a request.
    path("", include("knowledge.suggest_urls")),
]
