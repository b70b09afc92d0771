import pytest


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/pricing/")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"].startswith("'self' ")
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_production_form_action_allows_stripe_checkout_and_portal_only():
    from qualitybytes.tests.test_settings import production_env, run_manage

    code = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY)"
    result = run_manage(
        "shell", "-c", code, env=production_env(CSP_FORM_ACTION_EXTRA="https://pay.example.com")
    )
    assert (
        "form-action 'self' https://checkout.stripe.com https://billing.stripe.com https://pay.example.com"
        in result.stdout
    ), result.stderr


@pytest.mark.django_db
def test_api_responses_carry_the_headers_too(client):
    response = client.get("/.well-known/jwks.json")
    assert "default-src 'self'" in response["Content-Security-Policy"]
