"""E-mail without EMAIL_URL: one readable log line per message, and production refuses it."""

from django.core.mail import EmailMessage

from aftersales.checks import mail_is_only_logged
from aftersales.mail import LogBackend


def test_each_message_is_one_log_line_with_its_subject_readable(caplog):
    connection = LogBackend()
    messages = [
        EmailMessage(
            "新工单 SR20261203-0009：周先生", "控制面板报警 A12。", to=["hejun@example.com"]
        ),
        EmailMessage("SLA warning", "…", to=["a@example.com", "b@example.com"]),
    ]
    with caplog.at_level("INFO", logger="aftersales.mail"):
        assert connection.send_messages(messages) == 2
    assert caplog.messages == [
        "E-mail to hejun@example.com: 新工单 SR20261203-0009：周先生",
        "E-mail to a@example.com, b@example.com: SLA warning",
    ]


def test_the_deploy_checks_refuse_mail_that_is_only_logged(settings):
    settings.MAILERS = {"default": {"BACKEND": "aftersales.mail.LogBackend", "OPTIONS": {}}}
    assert [e.id for e in mail_is_only_logged(None)] == ["aftersales.E002"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert mail_is_only_logged(None) == []
